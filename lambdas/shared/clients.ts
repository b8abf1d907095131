import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients, created once per process. Endpoints come from the SDK's standard settings
 * (AWS_ENDPOINT_URL_DYNAMODB and friends), which is how the local runtime points them at
 * its emulators without a branch in the handlers.
 */
const retry = { maxAttempts: 2 } as const;

let documents: DynamoDBDocumentClient | undefined;
export const documentClient = (): DynamoDBDocumentClient =>
  (documents ??= DynamoDBDocumentClient.from(new DynamoDBClient(retry), {
    marshallOptions: { removeUndefinedValues: true },
  }));

const buses = new Map<string, EventBridgeClient>();
/** A bus client for the region of the bus ARN (the peer's bus lives in the peer's region). */
export const eventsClient = (region: string): EventBridgeClient => {
  let client = buses.get(region);
  if (client === undefined) buses.set(region, (client = new EventBridgeClient({ ...retry, region })));
  return client;
};

let secrets: SecretsManagerClient | undefined;
export const secretsClient = (): SecretsManagerClient => (secrets ??= new SecretsManagerClient(retry));

let cloudwatch: CloudWatchClient | undefined;
export const cloudwatchClient = (): CloudWatchClient => (cloudwatch ??= new CloudWatchClient(retry));

const lambdas = new Map<string, LambdaClient>();
/** A Lambda client for the region of the function ARN (hooks may live in either site's region). */
export const lambdaClientFor = (functionArn: string): LambdaClient => {
  const region = regionOfArn(functionArn);
  let client = lambdas.get(region);
  if (client === undefined) lambdas.set(region, (client = new LambdaClient({ ...retry, region })));
  return client;
};

let sns: SNSClient | undefined;
export const snsClient = (): SNSClient => (sns ??= new SNSClient(retry));

let sfn: SFNClient | undefined;
export const sfnClient = (): SFNClient => (sfn ??= new SFNClient(retry));

/** Region named in an ARN (arn:partition:service:region:...). */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`not a regional ARN: ${arn}`);
  return region;
}
