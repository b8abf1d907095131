import { type Heartbeat, signHeartbeat } from '../lambdas/core/message';

/** Production's beat to the standby of cluster `orders`, as the heartbeat module signs it: healthy primary, epoch 1. */
export function productionBeat(serial: number, sentAtMs: number, key: Buffer): Heartbeat {
  return signHeartbeat(
    {
      v: 1,
      cluster: 'orders',
      site: 'production',
      region: 'us-east-1',
      serial,
      sentAt: new Date(sentAtMs).toISOString(),
      epoch: 1,
      role: 'primary',
      health: 'ok',
    },
    key,
  );
}

/** The standby's beat to production of cluster `orders`, at epoch 1: secondary unless `role` says otherwise. */
export function standbyBeat(
  serial: number,
  sentAtMs: number,
  key: Buffer,
  over: { role?: Heartbeat['role']; ack?: number } = {},
): Heartbeat {
  return signHeartbeat(
    {
      v: 1,
      cluster: 'orders',
      site: 'standby',
      region: 'us-west-2',
      serial,
      sentAt: new Date(sentAtMs).toISOString(),
      epoch: 1,
      role: over.role ?? 'secondary',
      health: 'ok',
      ...(over.ack === undefined ? {} : { ack: over.ack }),
    },
    key,
  );
}
