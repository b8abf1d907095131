import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { applyOverrides, ConfigError, configFromContext, configObject, parseConfig } from '../../lib/config';
import { configWarnings, promotionWarning } from '../../lib/config-warnings';
import { BASE_CONFIG, config } from '../helpers';

const expectError = (raw: unknown, message: RegExp) => {
  expect(() => parseConfig(raw)).toThrow(ConfigError);
  expect(() => parseConfig(raw)).toThrow(message);
};

describe('configuration', () => {
  it('fills every default from the documented values', () => {
    expect(parseConfig(BASE_CONFIG)).toMatchObject({
      intervalSeconds: 2,
      deadlineFloorSeconds: 6,
      deadlineCeilingSeconds: 30,
      failoverMode: 'automatic',
      consistency: 'strong',
      witnessRegion: 'us-east-2',
      // Quorum mode: the lease gates every takeover, so one interval of confirmation is enough.
      confirmationWindowSeconds: 2,
      // Quorum mode: two failed renewals in a row and half an interval of lateness.
      leaseSeconds: 7,
      notifications: { criticalEmails: [], warningEmails: [] },
      cooldownSeconds: 3600,
      approvalTimeoutSeconds: 1800,
      isolationPolicy: 'self-fence',
      health: { timeoutMs: 600 },
    });
  });

  it("sizes quorum mode's default lease to ride out a sender paused 5 s between two ticks, at every interval", () => {
    const lease = (intervalSeconds: number) => parseConfig({ ...BASE_CONFIG, intervalSeconds }).leaseSeconds;
    // One interval and the pause at short intervals (3.5 intervals at 1 s, 3.5 s, would not outlast it); 3.5 beyond.
    expect([1, 2, 3, 5, 10].map(lease)).toEqual([6, 7, 10.5, 17.5, 35]);
    for (const intervalSeconds of [1, 2, 3, 5, 10])
      expect(lease(intervalSeconds)).toBeGreaterThanOrEqual(intervalSeconds + 5);
  });

  it('defaults to two-region mode where no region set holds both sites, with a person deciding failover', () => {
    expect(parseConfig({ ...BASE_CONFIG, productionRegion: 'eu-west-1', standbyRegion: 'us-east-1' })).toMatchObject({
      consistency: 'eventual',
      isolationPolicy: 'stay-primary',
      failoverMode: 'approval',
      // No lease gates a takeover there: the confirmation window keeps a flapping partition from failing over.
      confirmationWindowSeconds: 10,
      leaseSeconds: 12,
    });
    expect(parseConfig({ ...BASE_CONFIG, consistency: 'eventual', isolationPolicy: 'self-fence' })).toMatchObject({
      failoverMode: 'automatic',
    });
    expect(parseConfig({ ...BASE_CONFIG, productionRegion: 'eu-west-1', standbyRegion: 'eu-central-1' })).toMatchObject(
      { consistency: 'strong', witnessRegion: 'eu-west-2' },
    );
  });

  it.each([1, 2, 3, 5, 7, 10, 20])(
    'loads at intervalSeconds %i with every other key left to its default, in both modes',
    (intervalSeconds) => {
      for (const mode of [
        {},
        { consistency: 'eventual' },
        { consistency: 'eventual', isolationPolicy: 'self-fence' },
      ]) {
        expect(() => parseConfig({ ...BASE_CONFIG, ...mode, intervalSeconds })).not.toThrow();
      }
    },
  );

  it.each([
    [
      { intervalSeconds: 0 },
      /^mirrorbeat\.intervalSeconds: got 0; allowed: an integer number of seconds from 1 to 20$/,
    ],
    [{ intervalSeconds: 2.5 }, /^mirrorbeat\.intervalSeconds: got 2\.5; allowed: an integer/],
    [{ intervalSeconds: '2' }, /^mirrorbeat\.intervalSeconds: got "2"; allowed/],
    [{ clusterName: 'Orders_EU' }, /^mirrorbeat\.clusterName: got "Orders_EU"; allowed: the cluster name: lower-case/],
    [{ failoverMode: 'auto' }, /^mirrorbeat\.failoverMode: got "auto"; allowed: automatic, approval or manual$/],
    [
      { standbyRegion: 'us-east-1' },
      /^mirrorbeat\.standbyRegion: got "us-east-1"; allowed: must differ from productionRegion/,
    ],
    [
      { productionRegion: 'virginia' },
      /^mirrorbeat\.productionRegion: got "virginia"; allowed: the production region: an AWS region code/,
    ],
    [
      { deadlineFloorSeconds: 3 },
      /^mirrorbeat\.deadlineFloorSeconds: got 3; allowed: at least 2 × intervalSeconds \(4\)/,
    ],
    [
      { deadlineCeilingSeconds: 6 },
      /^mirrorbeat\.deadlineCeilingSeconds: got 6; allowed: greater than deadlineFloorSeconds/,
    ],
    [
      { consistency: 'eventual', isolationPolicy: 'self-fence', leaseSeconds: 16 },
      /^mirrorbeat\.leaseSeconds: got 16; allowed: less than deadlineFloorSeconds \+ confirmationWindowSeconds \(16\)/,
    ],
    [
      { productionRegion: 'eu-west-1', consistency: 'strong' },
      /^mirrorbeat\.consistency: got "strong"; allowed: strong needs production and standby in one region set/,
    ],
    [
      { consistency: 'strong', witnessRegion: 'eu-west-1' },
      /^mirrorbeat\.witnessRegion: got "eu-west-1"; allowed: production, standby and witness must be three different regions of one set/,
    ],
    [
      { consistency: 'eventual', witnessRegion: 'us-east-2' },
      /^mirrorbeat\.witnessRegion: got "us-east-2"; allowed: only used with consistency "strong"/,
    ],
    [
      { isolationPolicy: 'stay-primary' },
      /^mirrorbeat\.isolationPolicy: got "stay-primary"; allowed: stay-primary applies to two-region mode only/,
    ],
    [
      { consistency: 'eventual', failoverMode: 'automatic' },
      /^mirrorbeat\.failoverMode: got "automatic"; allowed: automatic failover in two-region mode needs isolationPolicy self-fence/,
    ],
    [{ logRetentionDays: 4 }, /^mirrorbeat\.logRetentionDays: got 4; allowed: one of 1, 3, 5/],
    [
      { notifications: { criticalEmails: ['oncall'] } },
      /^mirrorbeat\.notifications\.criticalEmails\[0\]: got "oncall"; allowed: an e-mail address/,
    ],
    [
      { promotion: { hookFunctionArn: 'my-function' } },
      /^mirrorbeat\.promotion\.hookFunctionArn: got "my-function"; allowed: a Lambda function ARN$/,
    ],
    [
      { promotion: { arc: { clusterEndpoints: [], routingControls: { production: 'x', standby: 'y' } } } },
      /^mirrorbeat\.promotion\.arc\.clusterEndpoints: .*at least one cluster endpoint/,
    ],
    [
      {
        promotion: {
          auroraGlobalDatabase: {
            globalClusterIdentifier: 'orders-global',
            clusterArns: {
              production: 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1',
              standby: 'arn:aws:rds:eu-west-1:123456789012:cluster:orders-euw1',
            },
          },
        },
      },
      /^mirrorbeat\.promotion\.auroraGlobalDatabase\.clusterArns\.standby: got "arn:aws:rds:eu-west-1:123456789012:cluster:orders-euw1"; allowed: the standby member cluster must be in us-west-2 \(the standby site's region\), not eu-west-1$/,
    ],
    [
      { promotion: { route53Records: { hostedZoneId: 'Z1', recordName: 'api.example.com', routing: 'geo' } } },
      /^mirrorbeat\.promotion\.route53Records\.routing: got "geo"; allowed: failover or weighted$/,
    ],
    [
      { promotion: { capacity: { standby: { ecsServices: [{ cluster: 'c', service: 's', desiredCount: -1 }] } } } },
      /^mirrorbeat\.promotion\.capacity\.standby\.ecsServices\[0\]\.desiredCount: got -1; allowed: at least 0$/,
    ],
    [
      { rpoBudgetSeconds: 99_999_999_999 },
      /^mirrorbeat\.rpoBudgetSeconds: got 99999999999; allowed: the RPO budget: a number of seconds from 1 to 3600$/,
    ],
    [
      { cooldownSeconds: -1 },
      /^mirrorbeat\.cooldownSeconds: got -1; allowed: the failover cooldown: a number of seconds from 0 to 86400$/,
    ],
    [
      { notifications: { foldAfter: 2.5 } },
      /^mirrorbeat\.notifications\.foldAfter: got 2\.5; allowed: a whole number$/,
    ],
    [
      { notifications: { foldWindowSeconds: 10 } },
      /^mirrorbeat\.notifications\.foldWindowSeconds: got 10; allowed: the notice fold window: a number of seconds from 60 to 86400$/,
    ],
    [
      { notifications: { runbookUrl: 'http://wiki/runbook' } },
      /^mirrorbeat\.notifications\.runbookUrl: got "http:\/\/wiki\/runbook"; allowed: an https:\/\/ URL$/,
    ],
    [{ intervalSecond: 3 }, /^mirrorbeat: unknown key "intervalSecond"; allowed keys here: clusterName, account/],
    [
      { notifications: { pager: [] } },
      /^mirrorbeat\.notifications: unknown key "pager"; allowed keys here: criticalEmails, warningEmails, foldAfter, publishInfo, foldWindowSeconds, runbookUrl$/,
    ],
    [
      {
        promotion: {
          route53FailoverRecord: {
            hostedZoneId: 'Z123',
            recordName: 'a',
            healthCheckId: '0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
            ttl: 60,
          },
        },
      },
      /^mirrorbeat\.promotion\.route53FailoverRecord: unknown key "ttl"; allowed keys here: hostedZoneId, recordName, healthCheckId$/,
    ],
  ])('rejects %j with one line naming the key, the value and what is allowed', (bad, message) => {
    expectError({ ...BASE_CONFIG, ...bad }, message);
    expect(() => parseConfig({ ...BASE_CONFIG, ...bad })).toThrow(/^[^\n]+$/);
  });

  it('rejects a configuration that is not an object', () => {
    expectError(42, /^mirrorbeat: got 42; expected an object of settings/);
    expect(() => configFromContext({})).toThrow(
      /^mirrorbeat: missing; add a "mirrorbeat" object to the context of cdk.json/,
    );
  });

  it('takes -c overrides per key, parsing numbers, JSON and comma-separated lists', () => {
    const config = configFromContext({
      mirrorbeat: BASE_CONFIG,
      'mirrorbeat.intervalSeconds': '5',
      'mirrorbeat.deadlineFloorSeconds': '10',
      'mirrorbeat.failoverMode': 'approval',
      'mirrorbeat.notifications.criticalEmails': 'a@example.com,b@example.com',
      'mirrorbeat.promotion.arc':
        '{"clusterEndpoints":[{"url":"https://host-a.us-east-1.example.com/v1","region":"us-east-1"}],"routingControls":{"production":"arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/p1","standby":"arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/s1"}}',
    });
    expect(config).toMatchObject({
      intervalSeconds: 5,
      deadlineFloorSeconds: 10,
      failoverMode: 'approval',
      notifications: { criticalEmails: ['a@example.com', 'b@example.com'] },
      promotion: { arc: { clusterEndpoints: [{ region: 'us-east-1' }] } },
    });
  });

  it.each([['intervalSeconds'], ['promotion.aurora.waitSeconds'], ['failoverMode']])(
    'refuses the context key %s, a mirrorbeat key without its prefix, naming the key it means',
    (key) => {
      expect(() => configFromContext({ mirrorbeat: BASE_CONFIG, [key]: '5' })).toThrow(
        new ConfigError(
          `${key}: a mirrorbeat key without the "mirrorbeat." prefix, so it would be ignored; write mirrorbeat.${key}`,
        ),
      );
      // The CDK's own keys and feature flags are no mirrorbeat key.
      expect(() =>
        configFromContext({
          mirrorbeat: BASE_CONFIG,
          '@aws-cdk/core:newStyleStackSynthesis': true,
          'aws:cdk:version-reporting': false,
        }),
      ).not.toThrow();
    },
  );

  it.each([['mirrbeat.intervalSeconds'], ['Mirrorbeat.intervalSeconds'], ['mirrorbeats'], ['mirorbeat.failoverMode']])(
    'refuses the context key %s, one slip away from mirrorbeat, instead of ignoring it',
    (key) => {
      expect(() => configFromContext({ mirrorbeat: BASE_CONFIG, [key]: '0' })).toThrow(
        new ConfigError(
          `${key}: unknown context key, so it would be ignored; did you mean mirrorbeat${key.slice(key.split('.')[0]?.length)}?`,
        ),
      );
    },
  );

  it("leaves CDK's own context keys alone", () => {
    expect(
      configFromContext({
        mirrorbeat: BASE_CONFIG,
        '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
        'aws:cdk:enable-path-metadata': true,
        mirror: 'x',
      }).clusterName,
    ).toBe(BASE_CONFIG.clusterName);
  });

  it('warns, in one line naming the fix, when nobody would be paged', () => {
    const promoting = {
      promotion: { capacity: { standby: { ecsServices: [{ cluster: 'c', service: 's', desiredCount: 2 }] } } },
    };
    const silent = parseConfig({
      ...BASE_CONFIG,
      ...promoting,
      notifications: { criticalEmails: [], warningEmails: [] },
    });
    expect(configWarnings(silent)).toEqual([
      expect.stringMatching(
        /^mirrorbeat\.notifications: no criticalEmails and no warningEmails, so a lost site or a failover pages nobody; add .* mirrorbeat-orders-production-critical and mirrorbeat-orders-standby-critical after deploying$/,
      ),
    ]);
    const paged = parseConfig({
      ...BASE_CONFIG,
      ...promoting,
      notifications: { criticalEmails: ['oncall@example.com'] },
    });
    expect(configWarnings(paged)).toEqual([]);
  });

  it('warns, once and plainly, when a failover would promote nothing but the record', () => {
    const bare = parseConfig({ ...BASE_CONFIG, notifications: { criticalEmails: ['oncall@example.com'] } });
    expect(configWarnings(bare)).toEqual([promotionWarning(bare)]);
    expect(promotionWarning(bare)).toBe(
      "mirrorbeat.promotion: no action configured, so a failover moves the primary role in mirrorbeat's cluster record and nothing else: your databases, traffic and capacity stay where they are; configure one of mirrorbeat.promotion.arc, mirrorbeat.promotion.route53FailoverRecord, mirrorbeat.promotion.route53Records, mirrorbeat.promotion.auroraGlobalDatabase, mirrorbeat.promotion.capacity, mirrorbeat.promotion.hookFunctionArn (docs/CONFIGURATION.md)",
    );
    const hooked = parseConfig({
      ...BASE_CONFIG,
      fenceHookFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fence',
    });
    expect(promotionWarning(hooked)).toMatch(/cluster record and calls your fence hook and nothing else: /);
    const hook = parseConfig({
      ...BASE_CONFIG,
      promotion: { hookFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:promote' },
    });
    expect(promotionWarning(hook)).toBeUndefined();
  });

  it('does not change the base object when applying overrides', () => {
    const base = { clusterName: 'a', notifications: { warningEmails: [] } };
    applyOverrides(base, { 'notifications.warningEmails': 'x@example.com' });
    expect(base.notifications.warningEmails).toEqual([]);
  });

  it('reads the committed cdk.json into a valid configuration', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const app = new App({ context: cdkJson.context });
    expect(configFromContext(app.node.getAllContext() as Record<string, unknown>).clusterName).toBe('orders');
  });
});

describe('docs/CONFIGURATION.md', () => {
  const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'CONFIGURATION.md'), 'utf8');
  const rows = new Map(
    [...docs.matchAll(/^\| `([A-Za-z0-9.]+)` \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]),
  );

  /** Every key of the schema, nested objects flattened with dots. */
  function schemaKeys(): string[] {
    return Object.entries(configObject.shape).flatMap(([key, field]) => {
      const inner = (field as { unwrap?: () => unknown }).unwrap?.() as { shape?: Record<string, unknown> } | undefined;
      return inner?.shape !== undefined && ['notifications', 'promotion', 'health', 'readiness'].includes(key)
        ? Object.keys(inner.shape).map((k) => `${key}.${k}`)
        : [key];
    });
  }

  it('lists exactly the keys of the schema', () => {
    expect([...rows.keys()].sort()).toEqual(schemaKeys().sort());
  });

  it('states each default as the code applies it', () => {
    const defaults = parseConfig(BASE_CONFIG) as unknown as Record<string, unknown>;
    for (const key of schemaKeys()) {
      const value = key
        .split('.')
        .reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], defaults);
      const required = key in BASE_CONFIG;
      const documented = rows.get(key);
      if (required) expect([key, documented]).toEqual([key, 'required']);
      else if (value === undefined) expect([key, documented]).toEqual([key, 'none']);
      // A default derived from other keys is documented as its rule, with its value for the example.
      else if (documented?.includes('×') === true || documented?.includes('here') === true)
        expect([key, documented]).toEqual([key, expect.stringContaining(`\`${JSON.stringify(value)}\``)]);
      else expect([key, documented]).toEqual([key, `\`${JSON.stringify(value)}\``]);
    }
  });
});

describe('health sources', () => {
  it('refuses a health URL that is not https, naming the key', () => {
    expect(() => config({ health: { url: 'http://orders.example.com/health' } })).toThrow(
      /^mirrorbeat\.health\.url: got "http:\/\/orders\.example\.com\/health"; allowed: an https:\/\/ URL/,
    );
  });

  it('refuses a health timeout that would delay the beat', () => {
    expect(() => config({ intervalSeconds: 1, health: { timeoutMs: 900 } })).toThrow(
      /^mirrorbeat\.health\.timeoutMs: got 900; allowed: at most 40 % of intervalSeconds \(400 ms\)/,
    );
  });
});

describe('table capacity', () => {
  it('refuses units that are not whole, naming the key and the range', () => {
    expect(() => config({ tableCapacity: { observations: { read: 2.5, write: 2 } } })).toThrow(
      /^mirrorbeat\.tableCapacity\.observations\.read: got 2\.5; allowed: .*whole number of units from 1 to 10000/,
    );
  });

  it('keeps the heartbeat volume on demand in quorum mode, and says what to do instead', () => {
    const quorum = { consistency: 'strong', productionRegion: 'us-east-1', standbyRegion: 'us-east-2' };
    expect(() => config({ ...quorum, tableCapacity: { heartbeatVolume: { read: 8, write: 4 } } })).toThrow(
      /^mirrorbeat\.tableCapacity\.heartbeatVolume: .*remove it, or use consistency eventual/,
    );
    expect(config({ ...quorum, tableCapacity: { observations: { read: 6, write: 4 } } }).tableCapacity).toEqual({
      observations: { read: 6, write: 4 },
    });
  });
});
