import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { MirrorbeatConfig } from '../lib/config';
import type { SiteId } from '../lambdas/core/wire';
import type { SiteDefinitions } from './definitions';

/**
 * The synthesized definitions on disk, so a `simulate` or `npm run demo` after the first skips
 * the synthesis (about 4 s). The key is the configuration and everything the templates are made
 * from: the sources of lib/, lambdas/ and local/definitions.ts, and the aws-cdk-lib version. A
 * change to any of them is another key; the cache only ever saves time. It lives where npm's
 * tools keep theirs (node_modules/.cache), so a fresh `npm ci` starts without it.
 */
const ROOT = path.join(__dirname, '..');
const DIR = path.join(ROOT, 'node_modules', '.cache', 'mirrorbeat');

let sources: string | undefined;

/** A digest of the sources the templates come from (read once a process). */
function sourcesDigest(): string {
  if (sources !== undefined) return sources;
  const hash = createHash('sha256');
  const files = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
      .sort();
  for (const file of [...files('lib'), ...files('lambdas'), 'local/definitions.ts']) {
    hash.update(file);
    hash.update(readFileSync(path.join(ROOT, file)));
  }
  hash.update(readFileSync(path.join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json')));
  return (sources = hash.digest('hex'));
}

const fileFor = (config: MirrorbeatConfig): string =>
  path.join(
    DIR,
    `definitions-${createHash('sha256').update(sourcesDigest()).update(JSON.stringify(config)).digest('hex').slice(0, 32)}.json`,
  );

/** The definitions synthesized before for this configuration and these sources, or undefined. */
export function cachedDefinitions(config: MirrorbeatConfig): Record<SiteId, SiteDefinitions> | undefined {
  try {
    return JSON.parse(readFileSync(fileFor(config), 'utf8')) as Record<SiteId, SiteDefinitions>;
  } catch {
    return undefined;
  }
}

/** Keeps them for the next run; written whole or not at all (a rename), so parallel runs never read half a file. */
export function cacheDefinitions(config: MirrorbeatConfig, definitions: Record<SiteId, SiteDefinitions>): void {
  try {
    mkdirSync(DIR, { recursive: true });
    const file = fileFor(config);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(definitions));
    renameSync(partial, file);
  } catch {
    // A read-only checkout only loses the saving.
  }
}
