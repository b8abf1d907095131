import { type DynamoLocal, startDynamoLocal } from '../../local/dynamo';

/**
 * Mutation runs call jest once per mutant in the same worker process: one DynamoDB Local per
 * worker, started on the first run and stopped when the worker exits, instead of a JVM a mutant.
 */
export default async function globalSetup(): Promise<void> {
  const held = globalThis as { mirrorbeatMutateDynamo?: Promise<DynamoLocal> };
  if (held.mirrorbeatMutateDynamo === undefined) {
    held.mirrorbeatMutateDynamo = startDynamoLocal();
    const dynamo = await held.mirrorbeatMutateDynamo;
    process.once('exit', () => void dynamo.stop());
  }
  process.env.MIRRORBEAT_TEST_DYNAMO_ENDPOINT = (await held.mirrorbeatMutateDynamo).endpoint;
}
