// This site's beat, as both paths carry it: composed from the tick's facts and signed.
import { type Heartbeat, signHeartbeat } from '../core/message';
import type { Settings } from '../shared/settings';
import type { Role } from './deps';
import type { HealthReading } from './health';

/** The longest workload-failure notice a beat carries (the schema's limit). */
const NOTICE_MAX = 1024;

/**
 * The signed beat: serial, send time, epoch and role, the workload's health, the highest serial accepted from the
 * peer (`ack`), and, while the workload is failed, since when and the evidence.
 */
export function composeBeat(
  settings: Pick<Settings, 'cluster' | 'site' | 'region'>,
  tick: {
    readonly serial: number;
    readonly nowMs: number;
    readonly epoch: number;
    readonly role: Role;
    readonly reading: HealthReading;
    readonly ack: number | undefined;
  },
  failedSinceMs: number | undefined,
  key: Buffer,
): Heartbeat {
  const { serial, nowMs, epoch, role, reading, ack } = tick;
  const since = new Date(failedSinceMs ?? nowMs).toISOString();
  return signHeartbeat(
    {
      v: 1,
      cluster: settings.cluster,
      site: settings.site,
      region: settings.region,
      serial,
      sentAt: new Date(nowMs).toISOString(),
      epoch,
      role,
      health: reading.health,
      ...(ack === undefined ? {} : { ack }),
      ...(reading.health === 'failed'
        ? {
            notice: {
              kind: 'workload-failed',
              detail: `since ${since}: ${reading.evidence.join('; ')}`.slice(0, NOTICE_MAX),
            },
          }
        : {}),
    },
    key,
  );
}
