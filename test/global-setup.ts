import { startDynamoLocal } from '../local/dynamo';

/** One DynamoDB Local for the whole run; tests find it through this variable and use their own tables. */
export default async function globalSetup(): Promise<void> {
  const dynamo = await startDynamoLocal();
  process.env.MIRRORBEAT_TEST_DYNAMO_ENDPOINT = dynamo.endpoint;
  (globalThis as { mirrorbeatDynamo?: typeof dynamo }).mirrorbeatDynamo = dynamo;
}
