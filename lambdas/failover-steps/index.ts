import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { isReadinessEvent, readinessPoints } from '../core/readiness';
import { parseStepInput } from '../core/steps';
import { type EbsReadiness, Env, type PromotionActions } from '../core/wire';
import { documentClient, eventsClient, lambdaClientFor, regionOfArn, snsClient } from '../shared/clients';
import { deployedNoticeDesk } from '../shared/desk';
import { logger, publishMetrics } from '../shared/observability';
import { siteParts } from '../shared/shell';
import { readSettings } from '../shared/settings';
import { checkReadiness } from './failover-readiness';
import { fenceWorkload, isFenceEvent } from './fence-workload';
import { FAILOVER_STEPS, type FailoverDeps, runFailoverStep } from './steps';

const settings = readSettings();
const peerBusArn = settings.required(Env.peerBus);
const arcClients = new Map<string, Route53RecoveryClusterClient>();
const deps: FailoverDeps = {
  settings,
  ...siteParts(settings),
  db: documentClient(),
  peerCloudWatch: new CloudWatchClient({ region: settings.peerRegion, maxAttempts: 2 }),
  peerEvents: eventsClient(regionOfArn(peerBusArn)),
  peerBusArn,
  actions: settings.json<PromotionActions>(Env.promotionActions),
  // Route 53's control plane answers in us-east-1 whatever the caller's region.
  route53: new Route53Client({ region: 'us-east-1', maxAttempts: 3 }),
  // The promoted region's capacity: this site's own region.
  autoScaling: new AutoScalingClient({ region: settings.region, maxAttempts: 3 }),
  ecs: new ECSClient({ region: settings.region, maxAttempts: 3 }),
  // Aurora's global database API answers in any member's region: this one, up while it is promoted.
  rds: new RDSClient({ region: settings.region, maxAttempts: 3 }),
  arcFor: ({ url, region }) => {
    let client = arcClients.get(url);
    if (client === undefined)
      arcClients.set(url, (client = new Route53RecoveryClusterClient({ region, endpoint: url, maxAttempts: 1 })));
    return client;
  },
  events: eventsClient(settings.region),
  lambdaFor: lambdaClientFor,
  siteBus: settings.optional(Env.siteBus),
  promotionHook: settings.optional(Env.promotionHook),
  fenceHook: settings.optional(Env.fenceHook),
  peerWorkloadFence: settings.optional(Env.peerWorkloadFence),
  notices: deployedNoticeDesk(settings, 5_000),
  // The data readiness gate reads this region's snapshots: the promoted site's own.
  readiness: settings.optional(Env.readiness) === undefined ? undefined : settings.json<EbsReadiness>(Env.readiness),
  ebs: new EBSClient({ region: settings.region, maxAttempts: 3 }),
  ec2: new EC2Client({ region: settings.region, maxAttempts: 3 }),
  now: Date.now,
};

/** One handler for the steps of the failover workflow; the state machine names the step. */
export const handler = async (event: unknown): Promise<Record<string, unknown>> => {
  // The heartbeat module's built-in fence target: this site's own workload, once it is fenced.
  if (isFenceEvent(event)) {
    const result = await fenceWorkload(event, {
      ...deps,
      site: settings.site,
      readCluster: () => deps.store.readCluster(),
    });
    logger.info('workload fence', { event, result });
    return result;
  }
  // The scheduled readiness check (every readiness.checkMinutes), or `mirrorbeat readiness`: it reads, never acts.
  if (isReadinessEvent(event)) {
    const { report, notice } = await checkReadiness({
      ...deps,
      sns: snsClient(),
      approvalTopic: settings.optional(Env.criticalTopic),
    });
    publishMetrics(settings.cluster, settings.site, readinessPoints(report), report.atMs);
    logger.info('failover readiness', { report, notice: notice?.kind ?? null });
    return { ...report };
  }
  const input = parseStepInput(event, FAILOVER_STEPS);
  const result = await runFailoverStep(input, deps);
  logger.info(`failover step ${input.step}`, { execution: input.execution, result });
  return result;
};
