import type { SiteId } from '../lambdas/core/wire';

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

  stateMachine(workflow: string): string {
    return `${this.prefix}-${this.site}-${workflow}`;
  }

  topic(severity: 'warning' | 'critical'): string {
    return `${this.prefix}-${this.site}-${severity}`;
  }

  get dashboard(): string {
    return `${this.prefix}-${this.site}`;
  }

  stack(): string {
    return `Mirrorbeat-${this.cluster}-${this.site}`;
  }
}
