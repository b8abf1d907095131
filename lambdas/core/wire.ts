/**
 * Names shared by the infrastructure (lib/) and the handlers: the sites, the paths, the
 * events on the site bus, the items of the heartbeat volume and the handlers' settings.
 * Changing one of these changes a contract between deployed parts.
 */
export const SITE_IDS = ['production', 'standby'] as const;
export type SiteId = (typeof SITE_IDS)[number];
export const PATHS = ['network', 'storage'] as const;
export type PathId = (typeof PATHS)[number];
export const PATH_MODES = ['disabled', 'pending', 'enabled'] as const;
export type PathMode = (typeof PATH_MODES)[number];

export const peerOf = (site: SiteId): SiteId => (site === 'production' ? 'standby' : 'production');

/** EventBridge `source` of everything mirrorbeat puts on a site bus. */
export const EVENT_SOURCE = 'mirrorbeat';
export const DetailType = {
  heartbeat: 'Heartbeat',
  sitePromoted: 'SitePromoted',
  pathCommand: 'PathCommand',
  pathAck: 'PathAck',
} as const;

/** The detail-type AWS Health gives its events (EventBridge events reference, "AWS Health events"). */
export const HEALTH_DETAIL_TYPE = 'AWS Health Event';

/** Custom metrics: namespace and names, shared by the handlers that emit and the alarms that watch. */
export const METRICS_NAMESPACE = 'Mirrorbeat';
export const MetricName = {
  ticks: 'Ticks',
  pathFailed: 'PathFailed',
  peerBeatAge: 'PeerBeatAgeSeconds',
  invalidBeats: 'InvalidBeats',
  sendFailures: 'SendFailures',
  phi: 'Phi',
  /** 1 while this site's verdict on its peer is the one in the Verdict dimension. */
  verdict: 'Verdict',
  /** 1 while a valid beat from the peer reports its workload failed. */
  peerHealthFailed: 'PeerHealthFailed',
  /** 1 while this site acts as primary. */
  actingPrimary: 'ActingPrimary',
  /** 1 while this site acts as primary and a fresh valid beat of the peer claims primary at its epoch. */
  twoPrimaries: 'TwoPrimaries',
  /** 1 while quorum mode's votes are one fault from no majority, as this site sees them (core/quorum.ts). */
  quorumDegraded: 'QuorumDegraded',
  /** 1 while this site can see that no site acts as primary (SiteCore.noPrimary). */
  noPrimary: 'NoPrimary',
  /** 1 while maintenance mode is on, as this site read it. */
  maintenance: 'Maintenance',
  /** 1 when the last readiness check found that a failover to this site would succeed, 0 when not (core/readiness.ts). */
  failoverReady: 'FailoverReady',
  /**
   * Per path: the adaptive deadline a peer beat must arrive within, in seconds (the beat age is plotted against it).
   */
  deadline: 'DeadlineSeconds',
  /** Per path: 2 enabled, 1 pending, 0 disabled (the path registry, as this site applies it). */
  pathMode: 'PathMode',
  /** Notices the rate limit folded into a later summary. */
  noticesFolded: 'NoticesFolded',
  /** Notices SNS did not take (the outbox tries again). */
  noticesUndelivered: 'NoticesUndelivered',
} as const;

/** Environment variables the infrastructure sets and the handlers read. */
export const Env = {
  cluster: 'MIRRORBEAT_CLUSTER',
  site: 'MIRRORBEAT_SITE',
  region: 'AWS_REGION',
  peerRegion: 'MIRRORBEAT_PEER_REGION',
  tuning: 'MIRRORBEAT_TUNING',
  heartbeatVolume: 'MIRRORBEAT_HEARTBEAT_VOLUME',
  observations: 'MIRRORBEAT_OBSERVATIONS',
  siteBus: 'MIRRORBEAT_SITE_BUS',
  peerBus: 'MIRRORBEAT_PEER_BUS',
  signingKey: 'MIRRORBEAT_SIGNING_KEY',
  warningTopic: 'MIRRORBEAT_WARNING_TOPIC',
  criticalTopic: 'MIRRORBEAT_CRITICAL_TOPIC',
  promotionHook: 'MIRRORBEAT_PROMOTION_HOOK',
  fenceHook: 'MIRRORBEAT_FENCE_HOOK',
  failoverStateMachine: 'MIRRORBEAT_FAILOVER_STATE_MACHINE',
  healthSources: 'MIRRORBEAT_HEALTH_SOURCES',
  promotionActions: 'MIRRORBEAT_PROMOTION_ACTIONS',
  /** The heartbeat module's built-in fence target: this site's failover-steps function, which zeroes its capacity. */
  workloadFence: 'MIRRORBEAT_WORKLOAD_FENCE',
  /** The peer's failover-steps function, which the fence step hands the fence event to (the peer's workload fence). */
  peerWorkloadFence: 'MIRRORBEAT_PEER_WORKLOAD_FENCE',
  readiness: 'MIRRORBEAT_READINESS',
  /** Quorum mode: the witness region, whose AWS Health events the network receiver records. */
  witnessRegion: 'MIRRORBEAT_WITNESS_REGION',
} as const;

/** The data readiness gate's configuration (readiness.ebs), passed to the failover steps as JSON. */
export interface EbsReadiness {
  readonly volumes: readonly (
    { readonly volumeId: string } | { readonly tag: { readonly key: string; readonly value: string } }
  )[];
  readonly maxSnapshotAgeSeconds: number;
  readonly policy: 'block' | 'warn';
}

/** Detection and failover tuning, passed to the handlers as one JSON variable. */
export interface Tuning {
  readonly intervalSeconds: number;
  readonly deadlineFloorSeconds: number;
  readonly deadlineCeilingSeconds: number;
  readonly phiThreshold: number;
  readonly confirmationWindowSeconds: number;
  readonly rpoBudgetSeconds: number;
  readonly leaseSeconds: number;
  /** strong: quorum mode (the cluster record needs a majority of three regions); eventual: two-region mode. */
  readonly consistency: 'strong' | 'eventual';
  readonly isolationPolicy: 'self-fence' | 'stay-primary';
  readonly failoverMode: 'automatic' | 'approval' | 'manual';
  /** What the secondary does when valid beats report the primary's workload failed. */
  readonly onPeerFailure: 'notify' | 'failover';
  /** No second automatic failover within this long of the last promotion (no ping-pong). */
  readonly cooldownSeconds: number;
  /** Warning notices of one kind and path allowed per window before the rest are folded (0: never fold). */
  readonly noticeBurst: number;
  readonly noticeWindowSeconds: number;
  /** Info notices go to the warning topic too (severity attribute `info`); absent: recorded only. */
  readonly publishInfo?: boolean;
  /** Your runbook, linked from every notice and the dashboard. */
  readonly runbookUrl?: string;
}

/** A Route 53 failover pair's PRIMARY (production) record, and the health check it carries. */
export interface Route53FailoverRecord {
  readonly hostedZoneId: string;
  readonly recordName: string;
  readonly healthCheckId: string;
}

/** A DNS name as Route 53 compares it (and its IAM condition keys name it): lower case, no final dot. */
export const normalizedRecordName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** The built-in promotion actions the configuration asks for. */
export interface PromotionActions {
  readonly arc?: {
    readonly clusterEndpoints: readonly { readonly url: string; readonly region: string }[];
    readonly routingControls: Readonly<Record<SiteId, string>>;
  };
  /**
   * The production (PRIMARY) failover record and its health check: the check is inverted while the standby is primary.
   */
  readonly route53FailoverRecord?: Route53FailoverRecord;
  /** A Route 53 record pair, one record per site: the promoted site's becomes PRIMARY (or takes the weight). */
  readonly route53Records?: Route53Records;
  /** The capacity each site's workload needs when that site is promoted. */
  readonly capacity?: Partial<Record<SiteId, SiteCapacity>>;
  /** Once this site is fenced (another site named primary), its capacity goes to zero. */
  readonly zeroWhenFenced?: boolean;
  /** An Aurora global database, one member cluster per site: the promoted site's becomes the writer. */
  readonly auroraGlobalDatabase?: AuroraGlobalDatabase;
}

export interface AuroraGlobalDatabase {
  readonly globalClusterIdentifier: string;
  readonly clusterArns: Readonly<Record<SiteId, string>>;
  /** How long a promotion waits for the promoted cluster to be the available writer. */
  readonly waitSeconds: number;
}

export interface Route53Records {
  readonly hostedZoneId: string;
  readonly recordName: string;
  readonly recordType: 'A' | 'AAAA' | 'CNAME';
  readonly routing: 'failover' | 'weighted';
  readonly setIdentifiers: Readonly<Record<SiteId, string>>;
  /** Weighted routing: the promoted site's weight (the other's becomes 0). */
  readonly weight: number;
}

export interface SiteCapacity {
  readonly autoScalingGroups: readonly {
    readonly name: string;
    readonly minSize: number;
    readonly desiredCapacity: number;
  }[];
  readonly ecsServices: readonly {
    readonly cluster: string;
    readonly service: string;
    readonly desiredCount: number;
  }[];
}

/** Where the heartbeat module reads the health of the workload it protects. */
export interface HealthSources {
  readonly alarmNames: readonly string[];
  readonly url?: string;
  readonly timeoutMs: number;
}
