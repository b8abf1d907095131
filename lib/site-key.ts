import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { SiteNames } from './names';

export interface SiteKeyProps {
  readonly names: SiteNames;
}

/**
 * The site's customer-managed key: it encrypts the notice topics and every log group of the
 * site (handler logs and state-machine logs carry decision records and task tokens). Key
 * policies name service principals, which no grant method covers, so they are added here.
 */
export class SiteKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SiteKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `mirrorbeat ${props.names.cluster} ${props.names.site}: notice topics and log groups`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    // Alarm actions publish as CloudWatch, which needs the key to encrypt the message for the topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // CloudWatch Logs encrypts each log group's data under the key, with the group's ARN as encryption context.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LogGroupsOfThisRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}
