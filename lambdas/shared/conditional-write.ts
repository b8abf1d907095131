// The one way a mirrorbeat handler sends a conditional write: false when the condition failed, any other error thrown.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** Sends a conditional write; false when its condition failed. */
export async function conditionalWrite(
  db: DynamoDBDocumentClient,
  command: UpdateCommand | PutCommand | DeleteCommand,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await db.send(command as UpdateCommand, { abortSignal: signal });
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
