import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * `mirrorbeat --help` and `--version` answer without loading the CDK, the local runtime, the
 * bench or the AWS SDK clients only preflight uses (issue 32, 4); what they load is checked,
 * not how long it takes. (The clients the everyday commands share, STS, DynamoDB and Step
 * Functions, still load: about 0.2 s of the 0.6 s --help takes here.)
 */
const ROOT = path.join(__dirname, '..', '..');
const HEAVY = [
  /node_modules\/aws-cdk-lib\//,
  /node_modules\/@aws-sdk\/client-(account|cloudformation|lambda|ssm|ec2|rds|secrets-manager)\//,
  /node_modules\/fast-check\//,
  /node_modules\/aws-local-stepfunctions\//,
  /\/local\/(runtime|run|definitions|dynamo)\.ts$/,
  /\/bench\//,
];

const cli = (args: string[]) =>
  spawnSync(
    process.execPath,
    [
      '-e',
      `require('tsx/cjs/api').register();
       const { main } = require('./bin/cli.ts');
       process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));
       void main(['node', 'mirrorbeat', ...${JSON.stringify(args)}]);`,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ESBUILD_WORKER_THREADS: '0' } },
  );

describe('the CLI starts light', () => {
  it.each([['--help'], ['--version'], ['simulate', '--help']])('%s loads none of the heavy modules', (...args) => {
    const out = cli(args);
    expect(out.status).toBe(0);
    const loaded = JSON.parse(out.stderr) as string[];
    expect(loaded.filter((file) => HEAVY.some((heavy) => heavy.test(file)))).toEqual([]);
  });

  it('--version prints the package version and nothing else', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version']).stdout).toBe(`${version}\n`);
  });
});
