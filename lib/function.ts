import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

const PROJECT_ROOT = path.join(__dirname, '..');

export interface MirrorbeatFunctionProps {
  /** Folder under lambdas/ that holds the handler's index.ts. */
  readonly handler: string;
  /** Account-unique name of the execution role (peers name it in their bus policy). */
  readonly roleName: string;
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly logRetention: logs.RetentionDays;
  /** The site's key, which encrypts the log group. */
  readonly logKey: kms.IKey;
  /**
   * Concurrency set aside for this handler, so that a workload in the same account and region
   * cannot throttle it by using the account's concurrency.
   * @default - none: the handler shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /** @default - no variables beyond the house ones */
  readonly environment?: Record<string, string>;
  /** A fixed name, for a function the peer site invokes by name. @default - generated */
  readonly functionName?: string;
  /** X-Ray active tracing. @default true */
  readonly tracing?: boolean;
}

/**
 * Every mirrorbeat handler: Node.js 24 on arm64, bundled by the local esbuild with source
 * maps, an explicit log group with retention under the site's key, X-Ray tracing (unless turned off), reserved
 * concurrency when the stack sets it aside, and a role of its own that
 * starts with nothing but writing to that log group.
 */
export class MirrorbeatFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MirrorbeatFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, encryptionKey: props.logKey });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `mirrorbeat ${props.handler} in ${Stack.of(this).region}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'lambdas', props.handler, 'index.ts'),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      handler: 'handler',
      ...(props.functionName === undefined ? {} : { functionName: props.functionName }),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `mirrorbeat-${props.handler}`,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        target: 'node24',
        // esbuild's size table on every synth is noise; its warnings and errors still show.
        logLevel: LogLevel.WARNING,
      },
    });
  }

  addEnvironment(key: string, value: string): void {
    this.function.addEnvironment(key, value);
  }
}
