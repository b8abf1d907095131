import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type FailoverDeps, runFailoverStep } from '../../../lambdas/failover-steps/steps';
import { standbySettings } from '../../helpers';
import { SiteStore } from '../../../lambdas/shared/store';

const settings = standbySettings();

// DynamoDB Local comes with the local runtime; until then the cluster record lives in this map behind a mocked client.
const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
let cluster: { epoch: number; primary: string } | undefined;

beforeEach(() => {
  cluster = undefined;
  documents.reset();
  events.reset();
  documents.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({ Item: input.Key.pk === 'CLUSTER' && cluster ? { ...cluster } : undefined }));
  documents.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
    const v = input.ExpressionAttributeValues;
    if ((cluster?.epoch ?? 1) !== v[':prev']) throw new Error('ConditionalCheckFailed');
    cluster = { epoch: v[':next'] as number, primary: v[':me'] as string };
    return {};
  });
  documents.on(PutCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

function deps(): FailoverDeps {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-west-2' }));
  return {
    settings,
    store: new SiteStore(db, 'volume', 'observations'),
    db,
    peerCloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
    events: new EventBridgeClient({ region: 'us-west-2' }),
    lambdaFor: () => new LambdaClient({ region: 'us-west-2' }),
    siteBus: 'mirrorbeat-orders-standby',
    promotionHook: undefined,
    fenceHook: undefined,
    now: () => Date.parse('2026-11-25T12:00:00Z'),
  };
}

/** Runs the steps as the state machine does: each result lands at $.<step>.result. */
async function runSteps(input: Record<string, unknown>, steps: string[]): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = { ...input };
  for (const step of steps) {
    state[step] = { result: await runFailoverStep({ step, execution: 'arn:aws:states:us-west-2:123456789012:execution:failover:manual-1', state }, deps()) };
  }
  return state;
}

describe('the failover steps', () => {
  it('promote and verify the epoch the fence wrote, also when started without an expected epoch', async () => {
    const state = await runSteps({ reason: 'operator' }, ['fence', 'promote', 'verify']);
    expect(cluster).toEqual({ epoch: 2, primary: 'standby' });
    expect(state.promote).toEqual({ result: expect.objectContaining({ epoch: 2 }) });
    expect(state.verify).toEqual({ result: expect.objectContaining({ ok: true }) });
  });

  it('fence, promote and verify one epoch above the one the failover was started for', async () => {
    cluster = { epoch: 4, primary: 'production' };
    const state = await runSteps({ expectedEpoch: 4 }, ['fence', 'promote', 'verify']);
    expect(cluster).toEqual({ epoch: 5, primary: 'standby' });
    expect(state.verify).toEqual({ result: expect.objectContaining({ ok: true }) });
  });
});
