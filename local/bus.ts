import { randomUUID } from 'node:crypto';
import type { Heartbeat } from '../lambdas/core/message';
import { peerOf } from '../lambdas/core/wire';
import { receiveNetworkEvent } from '../lambdas/network-receiver/receiver';
import { asHandler } from './calls';
import { LOCAL_ACCOUNT } from './definitions';
import type { Recorder } from './recorder';
import type { Regions } from './regions';
import type { Site, World } from './world';

/**
 * The network path: PutEvents onto the peer's site bus, one-way latency across regions, and
 * delivery to the targets of the synthesized rules that match (the network receiver).
 */

/** Median one-way latency (ms) of a PutEvents across regions to the target's invocation. */
const NETWORK_MEDIAN_MS = 45;

export class Bus {
  constructor(
    private readonly world: World,
    private readonly regions: Regions,
    private readonly recorder: Recorder,
  ) {}

  /** PutEvents from a site's handler onto its peer's bus. */
  async putEvents(from: Site, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const w = this.world;
    const to = w.sites[peerOf(from.id)];
    if (this.regions.networkCut(from, to))
      throw Object.assign(
        new Error(`connect ETIMEDOUT events.${to.settings.region}.amazonaws.com:443 (network path cut)`),
        { name: 'TimeoutError' },
      );
    const { network } = this.regions;
    const entries = (input.Entries ?? []) as { Source?: string; DetailType?: string; Detail?: string }[];
    for (const entry of entries) {
      if (w.random.chance(network.lossRate)) continue;
      const latency = w.random.logNormal(NETWORK_MEDIAN_MS, 0.35) + network.lagMs;
      const event = {
        source: entry.Source,
        'detail-type': entry.DetailType,
        account: LOCAL_ACCOUNT,
        region: to.settings.region,
        detail: JSON.parse(entry.Detail ?? 'null') as unknown,
      };
      w.clock.schedule(w.clock.nowMs + latency, async () => this.deliverEvent(from, to, event));
    }
    return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) };
  }

  /** An event reaching the peer's bus: the rules that match it invoke their targets. */
  async deliverEvent(from: Site, to: Site, event: Record<string, unknown>): Promise<void> {
    const w = this.world;
    if (to.crashed || this.regions.networkCut(from, to)) return;
    if (w.clock.nowMs < to.pausedUntilMs) {
      w.clock.schedule(to.pausedUntilMs, async () => this.deliverEvent(from, to, event));
      return;
    }
    for (const rule of w.options.definitions[to.id].rules) {
      if (!matches(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        if (!target.startsWith('NetworkReceiver')) continue;
        const receipt = await asHandler(w.caller(to, 'network-receiver'), () =>
          receiveNetworkEvent(event['detail-type'], event.detail, to.clock.wall(w.clock.nowMs), {
            settings: to.settings,
            store: to.store,
            keys: w.keys(),
          }),
        );
        if (receipt.accepted && 'control' in receipt) continue;
        if (receipt.accepted) {
          to.counts.network.accepted += 1;
          if ('serial' in receipt) this.recorder.accept(to, 'network', receipt.serial);
          to.received.push(event.detail as Heartbeat);
          if (to.received.length > 50) to.received.shift();
        } else if (receipt.reason !== 'stale') {
          this.recorder.countInvalid('network', receipt.reason);
        }
      }
    }
  }
}

/** EventBridge pattern matching for the patterns mirrorbeat's rules use: lists of exact values per field. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) return expected.some((v) => v === actual);
    if (expected !== null && typeof expected === 'object')
      return (
        actual !== null &&
        typeof actual === 'object' &&
        matches(expected as Record<string, unknown>, actual as Record<string, unknown>)
      );
    return expected === actual;
  });
}
