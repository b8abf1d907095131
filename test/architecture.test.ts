import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * One direction of arrows: bin → bench → local → (lib, client) → lambdas, nothing pointing
 * back (the SPIN model's timing reads lib and lambdas). The handlers import nothing of the CDK
 * app; the local runtime nothing of the CLI.
 */
const ROOT = path.join(__dirname, '..');
const MAY_IMPORT: Record<string, readonly string[]> = {
  lambdas: ['lambdas'],
  lib: ['lib', 'lambdas'],
  client: ['client', 'lambdas'],
  local: ['local', 'lib', 'client', 'lambdas'],
  bench: ['bench', 'local', 'lib', 'client', 'lambdas'],
  model: ['model', 'lib', 'lambdas'],
  bin: ['bin', 'bench', 'local', 'lib', 'client', 'lambdas'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** The longest a source file may be: past it, a file holds more than one part and is split. */
const MAX_LINES = 400;

it('imports point one way between the top-level folders, and no source file is over 400 lines', () => {
  const wrong: string[] = [];
  const long: string[] = [];
  for (const [folder, allowed] of Object.entries(MAY_IMPORT)) {
    for (const file of sources(path.join(ROOT, folder))) {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').length;
      const relative = path.relative(ROOT, file).split(path.sep).join('/');
      if (lines > MAX_LINES) long.push(`${relative}: ${lines} lines`);
      for (const m of text.matchAll(/from '(\.[^']+)'|import '(\.[^']+)'/g)) {
        const target = path
          .relative(ROOT, path.resolve(path.dirname(file), (m[1] ?? m[2]) as string))
          .split(path.sep)[0] as string;
        if (!allowed.includes(target)) wrong.push(`${path.relative(ROOT, file)} imports ${target}/`);
      }
    }
  }
  expect(wrong).toEqual([]);
  expect(long).toEqual([]);
});
