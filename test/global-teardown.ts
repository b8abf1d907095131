import type { DynamoLocal } from '../local/dynamo';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { mirrorbeatDynamo?: DynamoLocal }).mirrorbeatDynamo?.stop();
}
