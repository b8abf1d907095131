#!/usr/bin/env node
// mirrorbeat runs on the Lambda's Node.js major, which the project installs (the `node` devDependency).
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(
    `mirrorbeat needs Node.js 24 (the Lambda runtime); this is ${process.version}: run it through npm (npx mirrorbeat …, npm run demo), which uses the Node.js 24 that npm ci installed\n`,
  );
  process.exit(2);
}
// The CLI is TypeScript; tsx compiles it on the fly, as it does for the CDK app. esbuild's synchronous API
// talks to its service through a worker thread by default, and a service that exits under it leaves that call
// waiting forever (seen in CI: a child asleep for minutes beside a defunct esbuild); without the worker, the
// call fails instead (https://github.com/evanw/esbuild/issues/2396, ESBUILD_WORKER_THREADS=0).
process.env.ESBUILD_WORKER_THREADS ??= '0';
require('tsx/cjs/api').register();
void require('./cli.ts').main(process.argv);
