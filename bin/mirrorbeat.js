#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly, as it does for the CDK app.
require('tsx/cjs/api').register();
// The SDK's notice about Node 20 support is for maintainers, not for the operator reading this output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
void require('./cli.ts').main(process.argv);
