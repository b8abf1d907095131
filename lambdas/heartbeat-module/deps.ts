// What the heartbeat module is given: its settings, tables, keys, clients and hooks.
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Heartbeat } from '../core/message';
import type { PathId } from '../core/wire';
import { deadlineTimer } from '../shared/deadlines';
import type { Settings } from '../shared/settings';
import type { SigningKeys } from '../shared/keys';
import type { NoticeDesk } from '../shared/notifier';
import type { SiteStore } from '../shared/store';
import type { HealthProbe } from './health';

export interface ModuleDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly keys: SigningKeys;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly sfn: SFNClient;
  readonly failoverStateMachineArn: string | undefined;
  /** Where notices go (journal, rate limit, SNS); without it, changes are only recorded and logged. */
  readonly notices?: Pick<NoticeDesk, 'announce' | 'flush'>;
  /** Your fence hook, called once when this site stops acting as primary (it stops the workload here). */
  readonly fenceHook?: (event: Readonly<Record<string, unknown>>) => Promise<void>;
  /** The protected workload's health; without it, beats say `ok`. */
  readonly health?: Pick<HealthProbe, 'read'>;
  readonly log: (level: 'info' | 'warn', message: string, detail?: Record<string, unknown>) => void;
}

export type Role = Heartbeat['role'];

/** How long one path's send or read may take; a slow path must not hold up the tick or the other path. */
export const pathTimeoutMs = (intervalSeconds: number) => Math.max(500, Math.floor(intervalSeconds * 1000 * 0.4));

/**
 * Runs one path's send under its own deadline. The deadline is enforced here, not only
 * through the SDK's abort signal: a stuck credential fetch or retry must not hold the tick.
 */
export async function sendWithin(
  deps: Pick<ModuleDeps, 'log'>,
  path: PathId,
  timeoutMs: number,
  action: (signal: AbortSignal) => Promise<unknown>,
): Promise<'sent' | 'failed'> {
  const controller = new AbortController();
  let cancel = () => {};
  const deadline = new Promise<never>((_, reject) => {
    cancel = deadlineTimer(timeoutMs, () => {
      controller.abort();
      reject(new Error(`${path} send exceeded ${timeoutMs} ms`));
    });
  });
  try {
    await Promise.race([action(controller.signal), deadline]);
    return 'sent';
  } catch (error) {
    deps.log('warn', `${path} beat not sent`, { path, error: String(error) });
    return 'failed';
  } finally {
    cancel();
  }
}
