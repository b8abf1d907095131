import type { SiteId } from '../lambdas/core/wire';
import { type SiteDefinitions, synthesizeDefinitions } from './definitions';
import { cacheDefinitions, cachedDefinitions } from './definitions-cache';
import { type DynamoLocal, spawnDynamoLocal } from './dynamo';
import { simulate, type SimulationResult, type TimelineEntry } from './runtime';
import type { Scenario } from './scenario';
import type { CallSink } from './calls';

// The synthesized templates' deprecation notices are not part of a run's output.
process.env.JSII_DEPRECATED ??= 'quiet';

const synthesized = new Map<string, Record<SiteId, SiteDefinitions>>();

/**
 * The workflows and rules as deployed for this configuration: synthesized once, then from the cache
 * (definitions-cache.ts).
 */
export function definitionsFor(scenario: Scenario): Record<SiteId, SiteDefinitions> {
  const key = JSON.stringify(scenario.config);
  let definitions = synthesized.get(key) ?? cachedDefinitions(scenario.config);
  if (definitions === undefined) {
    definitions = synthesizeDefinitions(scenario.config);
    cacheDefinitions(scenario.config, definitions);
  }
  synthesized.set(key, definitions);
  return definitions;
}

/**
 * Runs one scenario end to end, as `mirrorbeat simulate` does. Starts DynamoDB Local for the
 * run unless an endpoint is given (tests share one).
 */
export async function simulateScenario(
  scenario: Scenario,
  options: {
    seed?: number;
    dynamoEndpoint?: string;
    onTimeline?: (entry: TimelineEntry) => void;
    onCall?: CallSink;
  } = {},
): Promise<SimulationResult> {
  // The JVM boots on another core while this one synthesizes the templates.
  const spawned = options.dynamoEndpoint === undefined ? await spawnDynamoLocal() : undefined;
  let definitions;
  try {
    definitions = definitionsFor(scenario);
  } catch (error) {
    spawned?.kill();
    throw error;
  }
  let dynamo: DynamoLocal | undefined;
  const endpoint =
    options.dynamoEndpoint ?? (dynamo = await (spawned as { ready: Promise<DynamoLocal> }).ready).endpoint;
  try {
    return await simulate(scenario, {
      dynamoEndpoint: endpoint,
      definitions,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.onTimeline ? { onTimeline: options.onTimeline } : {}),
      ...(options.onCall ? { onCall: options.onCall } : {}),
    });
  } finally {
    await dynamo?.stop();
  }
}
