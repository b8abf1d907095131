import type { ClusterRecord } from '../core/volume';
import { SITE_IDS, type PromotionActions, type SiteId } from '../core/wire';
import { type WorkloadClients, zeroCapacity, zeroOwnWeight } from './workload-actions';

/**
 * The built-in fence of a site's own workload (`promotion.capacity.whenFenced: "zero"`):
 * the heartbeat module invokes this site's failover-steps function with its fence hook
 * event when the site stops acting as primary. Stopping acting is not enough to take the
 * workload down: a primary that stepped down because it lost its lease resumes by itself,
 * and must find its capacity where it was. So the capacity goes to zero only once the
 * cluster record names another primary; while a handover or a fence has not reached this
 * region's replica yet, the event fails and Lambda's asynchronous retries bring it back.
 * With a weighted record pair (`promotion.route53Records`), the site's own record goes to
 * weight 0 as well.
 */

export interface FenceEvent {
  readonly fenced: SiteId;
  readonly epoch: number;
  readonly by: string;
}

export interface FenceWorkloadDeps extends WorkloadClients {
  readonly site: SiteId;
  readonly actions: PromotionActions;
  readonly readCluster: () => Promise<ClusterRecord>;
}

/** A fence hook event (the heartbeat module's or a fence step's), not a workflow step. */
export function isFenceEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'fenced' in event && !('step' in event);
}

export class NotFencedYet extends Error {
  override readonly name = 'NotFencedYet';
}

export async function fenceWorkload(
  event: unknown,
  deps: FenceWorkloadDeps,
): Promise<{ fenced: boolean; detail: string }> {
  const { fenced, epoch } = event as Partial<FenceEvent>;
  if (typeof fenced !== 'string' || !(SITE_IDS as readonly string[]).includes(fenced))
    throw new Error(`fenced: got ${JSON.stringify(fenced)}; allowed: production or standby`);
  if (fenced !== deps.site)
    throw new Error(`fenced: got ${fenced}; this is the ${deps.site} site's function: it fences its own workload only`);
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1)
    throw new Error(`epoch: got ${JSON.stringify(epoch)}; allowed: the epoch of the fence, a whole number from 1`);
  const capacity = deps.actions.capacity?.[deps.site];
  if (deps.actions.zeroWhenFenced !== true || capacity === undefined)
    return { fenced: false, detail: 'promotion.capacity.whenFenced is keep: the workload stays as it is' };
  const record = await deps.readCluster();
  if (record.primary === deps.site) {
    if (record.handover !== undefined || record.epoch < epoch)
      throw new NotFencedYet(
        `the cluster record still names ${deps.site} primary at epoch ${record.epoch}, a handover or fence under way; Lambda retries this event`,
      );
    return {
      fenced: false,
      detail: `${deps.site} is still named primary at epoch ${record.epoch} (it stepped down on its lease and resumes by itself): the workload stays`,
    };
  }
  const lines = await zeroCapacity(deps, capacity);
  const records = deps.actions.route53Records;
  if (records?.routing === 'weighted') lines.push(await zeroOwnWeight(deps.route53, records, deps.site));
  return { fenced: true, detail: `${record.primary} is primary at epoch ${record.epoch}: ${lines.join('; ')}` };
}
