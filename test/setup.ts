// cdk-nag reads a deprecated CloudFormation property while it checks bus policies; that warning is not ours.
process.env.JSII_DEPRECATED = 'quiet';
// The SDK's Node 20 maintenance notice is not a test result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
