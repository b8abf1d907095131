// Maintenance mode, switched by an operator: written into every site's replica, so each site reads it from its own
// region.
import type { Maintenance } from '../lambdas/core/volume';
import type { SiteId } from '../lambdas/core/wire';
import type { SiteStore } from '../lambdas/shared/store';

export interface MaintenanceWrite {
  readonly site: SiteId;
  readonly written: boolean;
  readonly error?: string;
  /** The error itself, for a caller that explains it (AWS's name and message). */
  readonly failure?: unknown;
}

/**
 * Writes maintenance mode into each given site's replica, side by side. One region down does
 * not stop the other: its write is reported, and replication carries the other's when it can.
 */
export async function setMaintenance(
  replicas: readonly { readonly site: SiteId; readonly store: Pick<SiteStore, 'writeMaintenance'> }[],
  m: Maintenance,
): Promise<MaintenanceWrite[]> {
  return Promise.all(
    replicas.map(async ({ site, store }) => {
      try {
        await store.writeMaintenance(m, AbortSignal.timeout(5_000));
        return { site, written: true };
      } catch (error) {
        return { site, written: false, error: error instanceof Error ? error.message : String(error), failure: error };
      }
    }),
  );
}
