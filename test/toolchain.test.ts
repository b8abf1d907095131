import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines?: { node?: string };
  devDependencies: Record<string, string>;
};
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

describe('the toolchain', () => {
  it('tests run on the Node.js major the handlers deploy on, which the project itself installs', () => {
    const deployed = major(lambda.Runtime.NODEJS_24_X.name.replace('nodejs', ''));
    expect(major(process.versions.node)).toBe(deployed);
    expect(major(pkg.devDependencies.node ?? '')).toBe(deployed);
    // No engine declared: npm would check it against the Node.js that runs npm and warn on every npx (README).
    expect(pkg.engines?.node).toBeUndefined();
    expect(readFileSync(path.join(ROOT, 'lib/function.ts'), 'utf8')).toContain('Runtime.NODEJS_24_X');
  });

  it('the CLI refuses an older Node.js in one line that says what to run instead', () => {
    // A fake older Node: the guard reads process.versions before anything else loads.
    const out = spawnSync(
      process.execPath,
      ['-e', "Object.defineProperty(process.versions, 'node', { value: '20.19.0' }); require('./bin/mirrorbeat.js')"],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(out.status).toBe(2);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain('npx mirrorbeat');
  });
});
