import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { DYNAMO_JVM_FLAGS, LocalStartError, startDeadlineMs } from '../../local/dynamo';

/** DynamoDB Local that cannot start says so in one line, what to install or check (issue 32, 5). */
const ROOT = path.join(__dirname, '..', '..');

/** A PATH holding Node.js and, when given, a fake `java`. */
function pathWith(java?: string): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-path-'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  if (java !== undefined) {
    writeFileSync(path.join(bin, 'java'), `#!/bin/sh\n${java}\n`);
    chmodSync(path.join(bin, 'java'), 0o755);
  }
  return bin;
}

/** DynamoDB Local started, with that PATH, by a process of its own (jest's process.env is not the one spawn reads). */
function startWith(java: string, env: Record<string, string> = {}) {
  return spawnSync(
    process.execPath,
    [
      '-e',
      `require('tsx/cjs/api').register();
       require('./local/dynamo.ts').startDynamoLocal().then(
         (d) => d.stop(),
         (e) => { process.stderr.write(e.constructor.name + ': ' + e.message); process.exitCode = 1; },
       );`,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: pathWith(java), ESBUILD_WORKER_THREADS: '0', ...env } },
  );
}

describe('starting DynamoDB Local', () => {
  it('without Java: one line naming what to install, exit 1, no stack trace', () => {
    const out = spawnSync(
      process.execPath,
      ['bin/mirrorbeat.js', 'simulate', '--scenario', 'local/scenarios/production-crash.json', '--json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: pathWith() } },
    );
    expect(out.status).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toEqual([
      'mirrorbeat: DynamoDB Local needs Java 17 or later on the PATH (Debian: apt-get install openjdk-17-jre-headless): no java found',
    ]);
  });

  it('with a Java too old for it: one line that says so', () => {
    const out = startWith(
      'echo "Error: LinkageError occurred while loading main class" >&2; echo "java.lang.UnsupportedClassVersionError: has been compiled by a more recent version of the Java Runtime" >&2; exit 1',
    );
    expect(out.status).toBe(1);
    expect(out.stderr).toBe(
      'LocalStartError: DynamoDB Local needs Java 17 or later on the PATH (Debian: apt-get install openjdk-17-jre-headless); `java -version` shows an older one',
    );
  });

  it('with a Java that fails otherwise: its first line of error, and what to check', () => {
    const out = startWith('echo "Error: could not reserve enough space for object heap" >&2; echo "more" >&2; exit 3');
    expect(out.status).toBe(1);
    expect(out.stderr).toBe(
      'LocalStartError: DynamoDB Local exited with 3 (Error: could not reserve enough space for object heap); check `java -version` (Java 17 or later)',
    );
  });

  it("runs the JVM with the lean flags, before a JAVA_TOOL_OPTIONS of the user's own, and leaves the JVM's note of them out of an error", () => {
    // The JVM notes its JAVA_TOOL_OPTIONS first on stderr, as this fake does; the error names the real failure.
    const fake =
      'echo "Picked up JAVA_TOOL_OPTIONS: $JAVA_TOOL_OPTIONS" >&2; echo "flags: $JAVA_TOOL_OPTIONS" >&2; exit 3';
    const said = (flags: string) =>
      `LocalStartError: DynamoDB Local exited with 3 (flags: ${flags}); check \`java -version\` (Java 17 or later)`;
    expect(startWith(fake, { JAVA_TOOL_OPTIONS: '' }).stderr).toBe(said(DYNAMO_JVM_FLAGS));
    expect(startWith(fake, { JAVA_TOOL_OPTIONS: '-Xmx2g' }).stderr).toBe(said(`${DYNAMO_JVM_FLAGS} -Xmx2g`));
  });

  it('waits longer on a busy machine, or as long as MIRRORBEAT_DYNAMO_START_SECONDS says', () => {
    expect(startDeadlineMs({}, 0)).toBe(30_000);
    // A load three times the cores: three times as long.
    expect(startDeadlineMs({}, 3 * cpus().length)).toBe(90_000);
    expect(startDeadlineMs({ MIRRORBEAT_DYNAMO_START_SECONDS: '120' }, 0)).toBe(120_000);
    expect(() => startDeadlineMs({ MIRRORBEAT_DYNAMO_START_SECONDS: 'soon' })).toThrow(
      new LocalStartError('MIRRORBEAT_DYNAMO_START_SECONDS: got "soon"; allowed: a number of seconds from 1 to 3600'),
    );
  });
});
