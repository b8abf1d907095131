import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Env } from '../lambdas/core/wire';
import type { MirrorbeatFunction } from './function';
import { acknowledgeNag } from './nag';
import type { SiteNames } from './names';
import type { SiteKey } from './site-key';
import type { TopicSeverity as Severity } from '../lambdas/core/notices';

/** The severities with a topic (an `info` notice is recorded, never published). */
export type { TopicSeverity as Severity } from '../lambdas/core/notices';

export interface NoticeTopicsProps {
  readonly names: SiteNames;
  /** The site's key, which encrypts both topics. */
  readonly key: SiteKey;
  /** @default - no e-mail subscriptions */
  readonly warningEmails?: readonly string[];
  /** @default - no e-mail subscriptions */
  readonly criticalEmails?: readonly string[];
}

/**
 * Where people learn what happened: a warning and a critical SNS topic, encrypted with the
 * site's key and reachable over TLS only. The topic policy that TLS enforcement creates
 * replaces SNS's default one, so it names the one service that publishes without an identity
 * policy: CloudWatch, for this site's own alarms.
 */
export class NoticeTopics extends Construct {
  readonly key: kms.Key;
  readonly warning: sns.Topic;
  readonly critical: sns.Topic;

  constructor(scope: Construct, id: string, props: NoticeTopicsProps) {
    super(scope, id);
    this.key = props.key.key;
    this.warning = this.topic('Warning', 'warning', props.names, props.warningEmails ?? []);
    this.critical = this.topic('Critical', 'critical', props.names, props.criticalEmails ?? []);
  }

  private topic(id: string, severity: Severity, names: SiteNames, emails: readonly string[]): sns.Topic {
    const topic = new sns.Topic(this, id, {
      topicName: names.topic(severity),
      displayName: `mirrorbeat ${names.cluster} ${names.site} ${severity}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: names.alarm('*'),
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    for (const address of emails) topic.addSubscription(new subscriptions.EmailSubscription(address));
    return topic;
  }

  of(severity: Severity): sns.ITopic {
    return severity === 'critical' ? this.critical : this.warning;
  }

  /** Publishing to an encrypted topic needs the key too; Topic.grantPublish grants both. */
  grantPublish(grantee: iam.IGrantable, ...severities: Severity[]): void {
    for (const severity of severities.length > 0 ? severities : (['warning', 'critical'] as const)) {
      (severity === 'critical' ? this.critical : this.warning).grantPublish(grantee);
    }
    const role = grantee.grantPrincipal;
    if (role instanceof Construct) {
      acknowledgeNag(
        role,
        'IAM5[Action::kms:GenerateDataKey*]',
        "Publishing to the KMS-encrypted notice topics needs GenerateDataKey*; the grant names only this site's notice key.",
      );
    }
  }

  /** Gives a handler both topics' ARNs and the right to publish to them. */
  bind(fn: MirrorbeatFunction): void {
    fn.addEnvironment(Env.warningTopic, this.warning.topicArn);
    fn.addEnvironment(Env.criticalTopic, this.critical.topicArn);
    this.grantPublish(fn.role);
  }
}
