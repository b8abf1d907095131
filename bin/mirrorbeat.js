#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly, as it does for the CDK app.
require('tsx/cjs/api').register();
require('./cli.ts').main(process.argv);
