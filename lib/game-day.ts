import { ArnFormat, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { MirrorbeatConfig } from './config';
import {
  FIS_FAULTS,
  GAME_DAY_NO_PRIMARY_MINUTES,
  GAME_DAY_TAG,
  GAME_DAY_TEMPLATES,
  type GameDayTemplate,
  PROTOCOL_STOP_ALARMS,
  stopAlarmNames,
} from './game-day-experiments';
import type { MirrorbeatFunction } from './function';
import { acknowledgeNag } from './nag';
import type { SiteStack } from './site-stack';

/**
 * The public SSM parameter that holds the FIS Lambda extension's layer ARN for arm64 (the FIS user guide, "Use the
 * AWS FIS aws:lambda:function actions"). A CloudFormation parameter of SSM type resolves it at deploy time, so synth
 * stays offline and the stack follows the extension's 1.x releases.
 */
export const FIS_EXTENSION_PARAMETER = '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x';
/** Where FIS writes a Lambda fault's configuration for the extension to read (its AWS_FIS_CONFIGURATION_LOCATION). */
const CONFIG_PREFIX = 'fis-configuration/';

/**
 * The game day (`gameDay: true`): FIS experiment templates that break this site's own parts, the FIS Lambda
 * extension on the two functions they fail, and the alarm that stops an experiment when no site acts as primary for
 * longer than a failover takes. Nothing runs until `mirrorbeat gameday run` (or the FIS console) starts one.
 */
export function bindGameDay(stack: SiteStack, config: MirrorbeatConfig): void {
  if (config.gameDay) new GameDay(stack, 'GameDay', config);
}

class GameDay extends Construct {
  constructor(stack: SiteStack, id: string, config: MirrorbeatConfig) {
    super(stack, id);
    const bucket = new s3.Bucket(this, 'FisConfiguration', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // FIS removes a fault's configuration when the experiment ends; a day's expiry sweeps what a stopped one left.
      lifecycleRules: [{ expiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(
      bucket,
      'S1',
      'Holds only the FIS Lambda extension configuration of a running experiment (seconds to minutes); every experiment is logged by FIS itself.',
    );
    const layerArn = new CfnParameter(stack, 'FisExtensionLayer', {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: FIS_EXTENSION_PARAMETER,
      description: 'The FIS Lambda extension layer (arm64), for the game day: the public SSM parameter AWS publishes',
    }).valueAsString;
    const layer = lambda.LayerVersion.fromLayerVersionArn(this, 'FisExtension', layerArn);
    const configLocation = `${bucket.bucketArn}/${CONFIG_PREFIX}`;
    const targets: Record<GameDayTemplate, { arn: string; fn?: MirrorbeatFunction }> = {
      'module-fails': { arn: stack.heartbeatModule.function.functionArn, fn: stack.heartbeatModule },
      'replica-isolated': {
        arn: stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: stack.names.heartbeatVolume }),
      },
      'receiver-fails': { arn: stack.networkReceiver.function.functionArn, fn: stack.networkReceiver },
    };
    for (const { fn } of Object.values(targets))
      if (fn !== undefined) this.attachExtension(fn, layer, bucket, configLocation);

    const noPrimary = new cloudwatch.Alarm(this, 'NoPrimaryTooLong', {
      alarmName: stack.names.alarm(PROTOCOL_STOP_ALARMS[1]),
      alarmDescription: `Game day stop condition: for ${GAME_DAY_NO_PRIMARY_MINUTES} minutes in a row this site saw no site acting as primary, longer than any failover takes. It stops a running experiment; it pages no one.`,
      metric: stack.monitoring.metrics.noPrimary(),
      threshold: 1,
      evaluationPeriods: GAME_DAY_NO_PRIMARY_MINUTES,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarmArn = (name: string) =>
      stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const stopAlarms = stopAlarmNames((id) => stack.names.alarm(id), config.health.alarmNames).map(alarmArn);
    const log = new logs.LogGroup(this, 'Experiments', {
      logGroupName: `/mirrorbeat/${config.clusterName}/${stack.names.site}/game-day`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const template of GAME_DAY_TEMPLATES)
      // A stop condition names the no-primary alarm by its ARN: the template waits for it to exist.
      this.template(stack, config, template, targets[template].arn, stopAlarms, log, bucket).node.addDependency(
        noPrimary,
      );
  }

  /** The extension reads its configuration from the bucket's prefix, with the function's own role. */
  private attachExtension(fn: MirrorbeatFunction, layer: lambda.ILayerVersion, bucket: s3.Bucket, location: string) {
    fn.function.addLayers(layer);
    fn.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', '/opt/aws-fis/bootstrap');
    fn.addEnvironment('AWS_FIS_CONFIGURATION_LOCATION', location);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${CONFIG_PREFIX}*`] } },
      }),
    );
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${CONFIG_PREFIX}*`)] }),
    );
    acknowledgeNag(
      fn.role,
      `IAM5[Resource::<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${CONFIG_PREFIX}*]`,
      "The FIS Lambda extension reads a running experiment's fault configuration under its prefix, and nothing else.",
    );
  }

  private template(
    stack: SiteStack,
    config: MirrorbeatConfig,
    template: GameDayTemplate,
    targetArn: string,
    stopAlarms: string[],
    log: logs.LogGroup,
    bucket: s3.Bucket,
  ): fis.CfnExperimentTemplate {
    const fault = FIS_FAULTS[template];
    const id = template.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `FIS, game day ${template} at ${stack.names.site}: exactly what its one action needs`,
    });
    if (fault.resourceType === 'aws:lambda:function') {
      // The Lambda actions read the function's configuration and write the fault's configuration where its
      // extension looks (the FIS actions reference, aws:lambda:invocation-error).
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:GetFunction'], resources: [targetArn] }));
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:DeleteObject'],
          resources: [bucket.arnForObjects(`${CONFIG_PREFIX}*`)],
        }),
      );
    } else {
      // The replication pause adds, then removes, a statement in the replica's resource policy that denies the
      // replication service's role (the FIS actions reference, aws:dynamodb:global-table-pause-replication).
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'dynamodb:DescribeTable',
            'dynamodb:GetResourcePolicy',
            'dynamodb:PutResourcePolicy',
            'dynamodb:DeleteResourcePolicy',
          ],
          resources: [targetArn],
        }),
      );
    }
    // The experiment writes its log through CloudWatch Logs' delivery (FIS log configuration, schema version 2).
    log.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogDelivery', 'logs:DescribeLogGroups'], resources: ['*'] }),
    );
    acknowledgeNag(role, 'IAM5[Resource::*]', 'CloudWatch Logs delivery calls have no resource-level permissions.');
    acknowledgeNag(
      role,
      `IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${CONFIG_PREFIX}*]`,
      'FIS writes and removes the fault configuration under the extension prefix, and nothing else.',
    );
    return new fis.CfnExperimentTemplate(this, id, {
      description: `mirrorbeat ${config.clusterName} game day at ${stack.names.site}: ${fault.what}`,
      roleArn: role.roleArn,
      targets: { target: { resourceType: fault.resourceType, resourceArns: [targetArn], selectionMode: 'ALL' } },
      actions: {
        fault: {
          actionId: fault.actionId,
          description: fault.what.slice(0, 512),
          parameters: { ...fault.parameters },
          targets: { [fault.targetKey]: 'target' },
        },
      },
      stopConditions: stopAlarms.map((value) => ({ source: 'aws:cloudwatch:alarm', value })),
      logConfiguration: { cloudWatchLogsConfiguration: { LogGroupArn: `${log.logGroupArn}` }, logSchemaVersion: 2 },
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
      tags: {
        [GAME_DAY_TAG.cluster]: config.clusterName,
        [GAME_DAY_TAG.experiment]: template,
        'mirrorbeat:site': stack.names.site,
        Name: `mirrorbeat-${config.clusterName}-${stack.names.site}-${template}`,
      },
    });
  }
}
