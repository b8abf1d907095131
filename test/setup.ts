// cdk-nag reads a deprecated CloudFormation property while it checks bus policies; that warning is not ours.
process.env.JSII_DEPRECATED = 'quiet';
