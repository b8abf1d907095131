// cdk-nag reads a deprecated CloudFormation property while it checks bus policies; that warning is not ours.
process.env.JSII_DEPRECATED = 'quiet';
// CDK announces each asset it bundles on stderr; a test that bundles would fill the log with it.
// A failed bundling throws with esbuild's errors, which still show.
type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
const write = process.stderr.write.bind(process.stderr) as Write;
const quiet: Write = (chunk, ...rest) =>
  typeof chunk === 'string' && chunk.startsWith('Bundling asset ') ? true : write(chunk, ...rest);
process.stderr.write = quiet;
