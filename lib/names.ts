import { SITE_IDS, type SiteId } from '../lambdas/core/wire';

/** The handlers, each a folder under lambdas/ with a role of its own. */
export const HANDLERS = ['heartbeat-module', 'network-receiver', 'failover-steps', 'path-control-steps'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Concurrency each handler may need at once, set aside when `reserveConcurrency` is on. The
 * heartbeat module runs for a minute and the next scheduled invocation starts as it ends (2),
 * plus the extra beats of workload alarms; the receiver takes one short invocation per peer
 * beat, command and acknowledgement, with EventBridge's retries on top; a site runs one
 * failover or path-control execution at a time, and the failover steps also take the workload
 * fence event and the scheduled readiness check, neither of which may throttle a failover's step.
 */
export const RESERVED_CONCURRENCY: Readonly<Record<HandlerName, number>> = {
  'heartbeat-module': 4,
  'network-receiver': 4,
  'failover-steps': 3,
  'path-control-steps': 2,
};

/** The workflows, each a state machine per site. */
export const WORKFLOWS = ['failover', 'path-control'] as const;

/**
 * Physical names. The two sites live in two stacks in two regions and must find each
 * other's parts without cross-region references, so every name a peer needs is derived
 * from the cluster name and the site alone.
 */
export class SiteNames {
  constructor(
    readonly cluster: string,
    readonly site: SiteId,
  ) {}

  private get prefix(): string {
    return `mirrorbeat-${this.cluster}`;
  }

  /** The heartbeat volume has one name in every region it is replicated to. */
  get heartbeatVolume(): string {
    return `${this.prefix}-heartbeat-volume`;
  }

  get observations(): string {
    return `${this.prefix}-${this.site}-observations`;
  }

  get siteBus(): string {
    return `${this.prefix}-${this.site}`;
  }

  /** Secrets Manager replicates a secret under the same name. */
  get signingKey(): string {
    return `${this.prefix}/heartbeat-signing-key`;
  }

  /** IAM role names are account-global, so they carry the site. */
  role(handler: string): string {
    return `${this.prefix}-${this.site}-${handler}`;
  }

  /** The functions a peer invokes by name (the failover steps, for the workload fence). */
  functionName(handler: string): string {
    return `${this.prefix}-${this.site}-${handler}`;
  }

  stateMachine(workflow: string): string {
    return `${this.prefix}-${this.site}-${workflow}`;
  }

  topic(severity: 'warning' | 'critical'): string {
    return `${this.prefix}-${this.site}-${severity}`;
  }

  get dashboard(): string {
    return `${this.prefix}-${this.site}`;
  }

  alarm(id: string): string {
    return `${this.prefix}-${this.site}-${id}`;
  }

  stack(): string {
    return `Mirrorbeat-${this.cluster}-${this.site}`;
  }
}

/** Quorum mode's witness stack (lib/witness-stack.ts), in the witness region. */
export const witnessStackName = (cluster: string): string => `Mirrorbeat-${cluster}-witness`;

/** The role its rule forwards AWS Health events with; the site buses admit it by name. */
export const witnessForwarderRole = (cluster: string): string => `mirrorbeat-${cluster}-witness-health`;

/**
 * Every fixed name derived from a cluster name, with the length AWS allows for it (IAM role
 * names 64, state machine names 80, stack names 128, ...). The cluster name's own limit is
 * what the tightest of them leaves.
 */
export function derivedNames(
  cluster: string,
): { readonly what: string; readonly name: string; readonly limit: number }[] {
  const witness = [
    { what: 'witness stack', name: witnessStackName(cluster), limit: 128 },
    { what: 'IAM role of the witness stack', name: witnessForwarderRole(cluster), limit: 64 },
  ];
  return SITE_IDS.flatMap((site) => {
    const n = new SiteNames(cluster, site);
    return [
      ...HANDLERS.map((h) => ({ what: `IAM role of the ${site} ${h}`, name: n.role(h), limit: 64 })),
      ...WORKFLOWS.map((w) => ({ what: `${site} ${w} state machine`, name: n.stateMachine(w), limit: 80 })),
      { what: `${site} stack`, name: n.stack(), limit: 128 },
      { what: `${site} site bus`, name: n.siteBus, limit: 256 },
      { what: `${site} observations table`, name: n.observations, limit: 255 },
      { what: `${site} dashboard`, name: n.dashboard, limit: 255 },
      ...(['warning', 'critical'] as const).map((s) => ({ what: `${site} ${s} topic`, name: n.topic(s), limit: 256 })),
      { what: 'heartbeat volume', name: n.heartbeatVolume, limit: 255 },
      { what: 'signing key secret', name: n.signingKey, limit: 512 },
    ];
  }).concat(witness);
}

/** The longest cluster name whose every derived name fits (23 today: the roles' 64 characters bind). */
export const MAX_CLUSTER_NAME_LENGTH = Math.min(...derivedNames('').map((d) => d.limit - d.name.length));
