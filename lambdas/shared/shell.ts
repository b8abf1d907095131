import { Env } from '../core/wire';
import { documentClient, secretsClient } from './clients';
import { SigningKeys } from './keys';
import type { Settings } from './settings';
import { SiteStore } from './store';

/**
 * What every Lambda shell (lambdas/*\/index.ts) builds from its settings, on the real clients
 * and the real clock: this site's store (its replica of the heartbeat volume and its
 * observations table; two-region mode renews in lease items) and its signing keys.
 */
export function siteParts(settings: Settings): { readonly store: SiteStore; readonly keys: SigningKeys } {
  return {
    store: new SiteStore(
      documentClient(),
      settings.heartbeatVolume,
      settings.observations,
      settings.tuning.consistency === 'eventual',
    ),
    keys: new SigningKeys(secretsClient(), settings.required(Env.signingKey), Date.now),
  };
}
