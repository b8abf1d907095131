import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

export const HANDLERS = ['heartbeat-module', 'network-receiver', 'failover-steps', 'path-control-steps'] as const;

const ROOT = path.join(__dirname, '..');

/** What the stacks give every handler, with local values: enough for each module to load. */
const HANDLER_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  MIRRORBEAT_CLUSTER: 'bench',
  MIRRORBEAT_SITE: 'standby',
  MIRRORBEAT_PEER_REGION: 'us-west-2',
  MIRRORBEAT_TUNING: JSON.stringify({
    intervalSeconds: 2,
    deadlineFloorSeconds: 6,
    deadlineCeilingSeconds: 30,
    phiThreshold: 8,
    confirmationWindowSeconds: 10,
    rpoBudgetSeconds: 30,
    leaseSeconds: 12,
    isolationPolicy: 'self-fence',
    failoverMode: 'automatic',
    onPeerFailure: 'notify',
    cooldownSeconds: 3600,
  }),
  MIRRORBEAT_PROMOTION_ACTIONS: '{}',
  MIRRORBEAT_HEARTBEAT_VOLUME: 'volume',
  MIRRORBEAT_OBSERVATIONS: 'observations',
  MIRRORBEAT_PEER_BUS: 'arn:aws:events:us-west-2:123456789012:event-bus/bench',
  MIRRORBEAT_SITE_BUS: 'bench',
  MIRRORBEAT_SIGNING_KEY: 'bench',
  MIRRORBEAT_WARNING_TOPIC: 'arn:aws:sns:us-east-1:123456789012:w',
  MIRRORBEAT_CRITICAL_TOPIC: 'arn:aws:sns:us-east-1:123456789012:c',
  MIRRORBEAT_HEALTH_SOURCES: JSON.stringify({ alarmNames: [], timeoutMs: 800 }),
};

/**
 * Bundles every handler as lib/function.ts does (esbuild, minified, CommonJS, node24, the
 * AWS SDK left to the runtime) and measures its size, and how long Node takes to load it
 * cold (median of `runs` fresh processes; the SDK packages load from node_modules, as the
 * Lambda runtime loads its own copy).
 */
export function bundleFigures(runs = 5): { bundleBytes: Record<string, number>; coldImportMs: Record<string, number> } {
  const bundleBytes: Record<string, number> = {};
  const coldImportMs: Record<string, number> = {};
  for (const handler of HANDLERS) {
    const outfile = path.join(ROOT, 'node_modules', '.mirrorbeat-bench', `${handler}.js`);
    buildSync({
      entryPoints: [path.join(ROOT, 'lambdas', handler, 'index.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      outfile,
      logLevel: 'error',
    });
    bundleBytes[handler] = statSync(outfile).size;
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const out = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
        ],
        { env: { ...process.env, ...HANDLER_ENV }, encoding: 'utf8', cwd: ROOT },
      );
      if (out.status !== 0) throw new Error(`${handler} did not load: ${out.stderr.slice(0, 300)}`);
      times.push(Number(out.stdout));
    }
    times.sort((a, b) => a - b);
    coldImportMs[handler] = Math.round((times[Math.floor(times.length / 2)] as number) * 10) / 10;
  }
  return { bundleBytes, coldImportMs };
}
