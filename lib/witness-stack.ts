import { Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { Env, HEALTH_DETAIL_TYPE, SITE_IDS } from '../lambdas/core/wire';
import type { MirrorbeatFunction } from './function';
import type { MirrorbeatConfig } from './config';
import { SiteNames, witnessForwarderRole } from './names';

export interface WitnessStackProps extends StackProps {
  readonly config: MirrorbeatConfig;
}

/**
 * Quorum mode's third region, as far as mirrorbeat can watch it. The witness is DynamoDB's own: no API reads or
 * writes it, so the one thing anyone can know is what AWS Health says of DynamoDB in its region. This stack holds one
 * rule there: AWS Health's DynamoDB issues, forwarded to both sites' buses, where the network receiver records them
 * (lambdas/network-receiver/witness.ts) and each heartbeat module reads them (core/quorum.ts). AWS Health delivers a
 * Regional event to EventBridge in that Region; events from AWS services cost nothing, and a forwarded event is one
 * cross-Region PutEvents.
 */
export class WitnessStack extends Stack {
  readonly rule: events.Rule;
  readonly forwarder: iam.Role;

  constructor(scope: Construct, id: string, props: WitnessStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.forwarder = new iam.Role(this, 'HealthForwarder', {
      roleName: witnessForwarderRole(config.clusterName),
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `mirrorbeat ${config.clusterName}: forwards AWS Health events about DynamoDB in the witness region to both site buses`,
    });
    const region = (site: (typeof SITE_IDS)[number]) =>
      site === 'production' ? config.productionRegion : config.standbyRegion;
    this.rule = new events.Rule(this, 'WitnessHealth', {
      description: `AWS Health issues of DynamoDB in ${this.region} (the witness of the heartbeat volume), to both sites`,
      eventPattern: {
        source: ['aws.health'],
        detailType: [HEALTH_DETAIL_TYPE],
        detail: { service: ['DYNAMODB'], eventTypeCategory: ['issue'] },
      },
      targets: SITE_IDS.map(
        (site) =>
          new targets.EventBus(
            events.EventBus.fromEventBusArn(
              this,
              `${site}Bus`,
              this.formatArn({
                service: 'events',
                region: region(site),
                resource: 'event-bus',
                resourceName: new SiteNames(config.clusterName, site).siteBus,
              }),
            ),
            { role: this.forwarder },
          ),
      ),
    });
  }
}

/**
 * A site's end: the rule on its bus that hands the forwarded AWS Health events to the network receiver, which records
 * them (lambdas/network-receiver/witness.ts). Events from AWS Health keep `source: aws.health`, which no PutEvents
 * call may use, and the bus admits only the witness stack's role besides the peer's senders (SiteStack).
 */
export function receiveWitnessHealth(
  scope: Construct,
  siteBus: events.IEventBus,
  receiver: MirrorbeatFunction,
  witnessRegion: string,
): events.Rule {
  receiver.addEnvironment(Env.witnessRegion, witnessRegion);
  return new events.Rule(scope, 'WitnessHealthRule', {
    eventBus: siteBus,
    description: `AWS Health events about DynamoDB in the witness region ${witnessRegion}, forwarded by the witness stack, to the receiver`,
    eventPattern: { source: ['aws.health'], detailType: [HEALTH_DETAIL_TYPE], account: [Stack.of(scope).account] },
    targets: [new targets.LambdaFunction(receiver.function, { retryAttempts: 8 })],
  });
}
