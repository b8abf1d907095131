// cdk-nag reads a deprecated CloudFormation property while it checks bus policies; that warning is not ours.
process.env.JSII_DEPRECATED = 'quiet';
// The SDK's Node 20 maintenance notice is not a test result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// CDK announces each asset it bundles on stderr; a test that bundles would fill the log with it.
// A failed bundling throws with esbuild's errors, which still show.
type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
const write = process.stderr.write.bind(process.stderr) as Write;
const quiet: Write = (chunk, ...rest) =>
  typeof chunk === 'string' && chunk.startsWith('Bundling asset ') ? true : write(chunk, ...rest);
process.stderr.write = quiet;
