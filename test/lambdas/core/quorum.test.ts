import { parseRecorded, type QuorumInputs, quorumOf, recordedQuorum, replicaCut } from '../../../lambdas/core/quorum';

const healthy = { network: 'healthy', storage: 'healthy' } as const;
const enabled = { network: 'enabled', storage: 'enabled' } as const;
const base: QuorumInputs = {
  lastMajorityMono: 100_000,
  watchingSinceMono: 0,
  monoMs: 106_999,
  leaseMs: 7_000,
  states: healthy,
  modes: enabled,
  replicaCutSinceMono: undefined,
  witness: 'unknown',
};

describe('the quorum as a site sees it', () => {
  it('is whole while this site reached a majority within the lease and the peer’s beats replicate', () => {
    expect(quorumOf(base)).toEqual({
      majority: true,
      peerReplica: 'reachable',
      witness: 'unknown',
      degraded: false,
      why: [],
    });
  });

  it('loses the majority a full lease after the last strong read or write that succeeded', () => {
    const lost = quorumOf({ ...base, monoMs: 107_000 });
    expect(lost.majority).toBe(false);
    expect(lost.degraded).toBe(true);
    expect(lost.why).toEqual([expect.stringMatching(/^this site reached no majority for 7 s: its strong reads/)]);
  });

  it('gives a fresh container a lease to find its majority, from when it began watching', () => {
    const fresh = { ...base, lastMajorityMono: undefined, watchingSinceMono: 50_000 };
    expect(quorumOf({ ...fresh, monoMs: 56_999 }).majority).toBe(true);
    expect(quorumOf({ ...fresh, monoMs: 57_000 }).majority).toBe(false);
  });

  it('sees the replica cut only when the peer’s beats stop replicating while its network beats arrive', () => {
    expect(replicaCut({ network: 'healthy', storage: 'failed' }, enabled)).toBe(true);
    // Suspect is not failed: the network path still says the peer lives.
    expect(replicaCut({ network: 'suspect', storage: 'failed' }, enabled)).toBe(true);
    // Both paths silent: the peer itself may be gone (peer-lost says so).
    expect(replicaCut({ network: 'failed', storage: 'failed' }, enabled)).toBe(false);
    // Pending: no network beat has arrived yet, so nothing says the peer lives.
    expect(replicaCut({ network: 'pending', storage: 'failed' }, enabled)).toBe(false);
    expect(replicaCut({ network: 'healthy', storage: 'suspect' }, enabled)).toBe(false);
    // A path switched off, or coming into use, tells nothing.
    for (const modes of [
      { network: 'disabled', storage: 'enabled' },
      { network: 'pending', storage: 'enabled' },
      { network: 'enabled', storage: 'disabled' },
      { network: 'enabled', storage: 'pending' },
    ] as const)
      expect(replicaCut({ network: 'healthy', storage: 'failed' }, modes)).toBe(false);
  });

  it('calls the peer’s replica unreachable once it has been cut for a lease; unknown before, and when nothing tells', () => {
    const storageFailed = { network: 'healthy', storage: 'failed' } as const;
    const cut = (forMs: number) =>
      quorumOf({ ...base, states: storageFailed, replicaCutSinceMono: base.monoMs - forMs });
    expect([cut(6_999).peerReplica, cut(6_999).degraded]).toEqual(['unknown', false]);
    const confirmed = cut(7_000);
    expect([confirmed.peerReplica, confirmed.degraded, confirmed.majority]).toEqual(['unreachable', true, true]);
    expect(confirmed.why).toEqual([
      "the peer's beats have not replicated to this site's replica for 7 s while its network beats say it lives: the peer's replica is cut off or lagging",
    ]);
    expect(quorumOf({ ...base, states: { network: 'failed', storage: 'failed' } })).toMatchObject({
      peerReplica: 'unknown',
      degraded: false,
    });
    expect(quorumOf({ ...base, modes: { network: 'enabled', storage: 'disabled' } }).peerReplica).toBe('unknown');
    expect(quorumOf({ ...base, states: { network: 'failed', storage: 'suspect' } }).peerReplica).toBe('reachable');
  });

  it('is degraded when AWS Health names the witness region, and says so among the other reasons', () => {
    expect(quorumOf({ ...base, witness: 'ok' }).degraded).toBe(false);
    const down = quorumOf({
      ...base,
      monoMs: 200_000,
      states: { network: 'healthy', storage: 'failed' },
      replicaCutSinceMono: 150_000,
      witness: 'unreachable',
    });
    expect(down.why).toHaveLength(3);
    expect(down.why[2]).toBe('an AWS Health event names DynamoDB in the witness region');
  });

  it('records what status shows, without the reasons, and reads it back; anything else is no record', () => {
    const view = quorumOf({ ...base, states: { network: 'healthy', storage: 'failed' }, replicaCutSinceMono: 0 });
    const text = recordedQuorum(view);
    expect(JSON.parse(text)).toEqual({
      degraded: true,
      majority: true,
      peerReplica: 'unreachable',
      witness: 'unknown',
    });
    expect(parseRecorded(text)).toEqual(JSON.parse(text));
    expect(parseRecorded('{"degraded":false,"majority":true}')).toEqual({
      degraded: false,
      majority: true,
      peerReplica: 'unknown',
      witness: 'unknown',
    });
    for (const junk of [undefined, 7, 'whole', '{', 'null', '{"degraded":"no","majority":true}', '{"degraded":true}'])
      expect(parseRecorded(junk)).toBeUndefined();
  });
});
