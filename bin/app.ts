#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addSites } from '../lib/app';
import { ConfigError, configFromContext } from '../lib/config';
import { configWarnings } from '../lib/config-warnings';

const app = new App();
try {
  const config = configFromContext(app.node.getAllContext() as Record<string, unknown>);
  for (const warning of configWarnings(config)) process.stderr.write(`mirrorbeat: warning: ${warning}\n`);
  addSites(app, config, { ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}) });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`mirrorbeat: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
app.synth();
