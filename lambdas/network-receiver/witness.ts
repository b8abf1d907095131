// AWS Health's word on DynamoDB in the witness region, forwarded to this site's bus by the witness stack's rule.
import * as z from 'zod/mini';
import { Env } from '../core/wire';
import type { Settings } from '../shared/settings';
import type { SiteStore } from '../shared/store';

/**
 * The fields of an AWS Health event's detail that matter here (AWS Health User Guide, "AWS Health events Amazon
 * EventBridge schema"): which service and region, whether it is an issue, and whether it is open or closed. The rest
 * passes untouched.
 */
const healthDetail = z.looseObject({
  eventArn: z.string().check(z.minLength(1), z.maxLength(1600)),
  service: z.string(),
  eventTypeCategory: z.string(),
  eventRegion: z.optional(z.string()),
  statusCode: z.enum(['open', 'closed', 'upcoming']),
});

export type WitnessReceipt =
  | { readonly accepted: true; readonly witness: 'open' | 'closed'; readonly eventArn: string }
  | { readonly accepted: false; readonly reason: 'schema' | 'not-the-witness'; readonly detail: string };

/**
 * Records an open or closed AWS Health issue of DynamoDB in the witness region; anything else is answered and left:
 * an event of another service, category or region, an upcoming one, or one without the fields (counted as schema).
 */
export async function receiveWitnessHealth(
  detail: unknown,
  nowMs: number,
  deps: { settings: Settings; store: Pick<SiteStore, 'witness' | 'countInvalid'> },
): Promise<WitnessReceipt> {
  const parsed = healthDetail.safeParse(detail);
  if (!parsed.success) {
    await deps.store.countInvalid('network', 'schema');
    return { accepted: false, reason: 'schema', detail: `not an AWS Health event: ${parsed.error.issues[0]?.message}` };
  }
  const e = parsed.data;
  const witnessRegion = deps.settings.optional(Env.witnessRegion);
  if (
    e.service !== 'DYNAMODB' ||
    e.eventTypeCategory !== 'issue' ||
    e.statusCode === 'upcoming' ||
    (witnessRegion !== undefined && e.eventRegion !== undefined && e.eventRegion !== witnessRegion)
  )
    return {
      accepted: false,
      reason: 'not-the-witness',
      detail:
        `${e.service} ${e.eventTypeCategory} ${e.statusCode} in ${e.eventRegion ?? 'no region'}: not an open or closed DynamoDB issue in the witness region ${witnessRegion ?? ''}`.trim(),
    };
  const open = e.statusCode === 'open';
  await deps.store.witness.record(e.eventArn, open, nowMs);
  return { accepted: true, witness: open ? 'open' : 'closed', eventArn: e.eventArn };
}
