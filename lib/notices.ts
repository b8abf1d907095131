import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Env } from '../lambdas/core/wire';
import type { MirrorbeatFunction } from './function';
import { acknowledgeNag } from './nag';
import type { SiteNames } from './names';
import type { Severity } from '../lambdas/core/notices';

export type { Severity } from '../lambdas/core/notices';

export interface NoticeTopicsProps {
  readonly names: SiteNames;
  /** @default - no e-mail subscriptions */
  readonly warningEmails?: readonly string[];
  /** @default - no e-mail subscriptions */
  readonly criticalEmails?: readonly string[];
}

/**
 * Where people learn what happened: a warning and a critical SNS topic, encrypted with a
 * customer-managed key (CloudWatch alarms may use it) and reachable over TLS only.
 */
export class NoticeTopics extends Construct {
  readonly key: kms.Key;
  readonly warning: sns.Topic;
  readonly critical: sns.Topic;

  constructor(scope: Construct, id: string, props: NoticeTopicsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `mirrorbeat ${props.names.cluster} ${props.names.site} notices`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    // Alarm actions publish as CloudWatch, which needs the key to encrypt; no grant method covers a service principal.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
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
      acknowledgeNag(role, 'IAM5[Action::kms:GenerateDataKey*]', "Publishing to the KMS-encrypted notice topics needs GenerateDataKey*; the grant names only this site's notice key.");
    }
  }

  /** Gives a handler both topics' ARNs and the right to publish to them. */
  bind(fn: MirrorbeatFunction): void {
    fn.addEnvironment(Env.warningTopic, this.warning.topicArn);
    fn.addEnvironment(Env.criticalTopic, this.critical.topicArn);
    this.grantPublish(fn.role);
  }
}
