import { App } from 'aws-cdk-lib';
import { addSites } from '../lib/app';
import type { MirrorbeatConfig } from '../lib/config';
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';

/** The local account every fake ARN carries. */
export const LOCAL_ACCOUNT = '123456789012';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SiteDefinitions {
  readonly region: string;
  /** State machine definitions by workflow (`failover`, `path-control`), as deployed, with ARNs resolved. */
  readonly stateMachines: Readonly<Record<string, Record<string, Json>>>;
  /** Event rules of the site bus: their pattern and the logical id of the Lambda each targets. */
  readonly rules: readonly {
    readonly id: string;
    readonly pattern: Record<string, unknown>;
    readonly targets: readonly string[];
  }[];
  /** Memory of each Lambda function, by logical id. */
  readonly functionMemoryMb: Readonly<Record<string, number>>;
  readonly alarms: number;
  /** The metrics the alarms read, as CloudWatch bills them (one per alarm, one per metric of a metric-math alarm). */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  /** The site's dashboard body, as deployed, with ARNs resolved. */
  readonly dashboard: Record<string, Json> | null;
}

/**
 * Synthesizes both sites for a configuration (without bundling) and takes from the templates
 * what the local runtime executes: the state machine definitions and the bus rules. Tokens
 * resolve to local fake ARNs named by logical id (`arn:aws:lambda:<region>:<account>:function:<logicalId>`).
 */
export function synthesizeDefinitions(config: MirrorbeatConfig): Record<SiteId, SiteDefinitions> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const sites = addSites(app, config, { account: LOCAL_ACCOUNT });
  const assembly = app.synth({ validateOnSynthesis: false });
  const out = {} as Record<SiteId, SiteDefinitions>;
  for (const id of SITE_IDS) {
    const stack = sites[id];
    const template = assembly.getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const region = id === 'production' ? config.productionRegion : config.standbyRegion;
    const resolve = (value: unknown): Json => resolveTokens(value, template.Resources, region);
    const stateMachines: Record<string, Record<string, Json>> = {};
    const rules: { id: string; pattern: Record<string, unknown>; targets: string[] }[] = [];
    const functionMemoryMb: Record<string, number> = {};
    let alarms = 0;
    let alarmMetrics = 0;
    let dashboards = 0;
    let dashboard: Record<string, Json> | null = null;
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type === 'AWS::StepFunctions::StateMachine') {
        const prefix = `mirrorbeat-${config.clusterName}-${id}-`;
        const name = text(resource.Properties.StateMachineName ?? logicalId).replace(prefix, '');
        stateMachines[name] = JSON.parse(text(resolve(resource.Properties.DefinitionString))) as Record<string, Json>;
      }
      if (resource.Type === 'AWS::Lambda::Function')
        functionMemoryMb[logicalId] = Number(resource.Properties.MemorySize ?? 128);
      if (resource.Type === 'AWS::CloudWatch::Alarm') {
        alarms += 1;
        // An alarm on metric math is billed for each metric it reads.
        const metrics = (resource.Properties.Metrics ?? []) as { MetricStat?: unknown }[];
        alarmMetrics += Math.max(1, metrics.filter((m) => m.MetricStat !== undefined).length);
      }
      if (resource.Type === 'AWS::CloudWatch::Dashboard') {
        dashboards += 1;
        dashboard = JSON.parse(text(resolve(resource.Properties.DashboardBody))) as Record<string, Json>;
      }
      // A schedule rule (the readiness check, every readiness.checkMinutes) matches no event: the bus leaves it out.
      if (resource.Type === 'AWS::Events::Rule' && resource.Properties.EventPattern !== undefined) {
        const targets = ((resource.Properties.Targets ?? []) as { Arn: unknown }[]).map(
          (t) => text(resolve(t.Arn)).split(':').pop() ?? '',
        );
        rules.push({
          id: logicalId,
          pattern: resolve(resource.Properties.EventPattern) as Record<string, unknown>,
          targets,
        });
      }
    }
    out[id] = { region, stateMachines, rules, functionMemoryMb, alarms, alarmMetrics, dashboards, dashboard };
  }
  return out;
}

function resolveTokens(value: unknown, resources: Record<string, { Type: string }>, region: string): Json {
  if (Array.isArray(value)) return value.map((v) => resolveTokens(v, resources, region));
  if (value === null || typeof value !== 'object') return value as Json;
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => text(resolveTokens(p, resources, region))).join(separator);
  }
  if ('Ref' in object) {
    const ref = String(object.Ref);
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::Region') return region;
    if (ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return fakeArn(resources[ref]?.Type, ref, region);
  }
  if ('Fn::GetAtt' in object) {
    const [ref] = object['Fn::GetAtt'] as [string, string];
    return fakeArn(resources[ref]?.Type, ref, region);
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveTokens(v, resources, region)]));
}

function fakeArn(type: string | undefined, logicalId: string, region: string): string {
  switch (type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${LOCAL_ACCOUNT}:${logicalId}`;
    default:
      return `arn:aws:local:${region}:${LOCAL_ACCOUNT}:${logicalId}`;
  }
}

/** A resolved token as text; anything else is a template this runtime does not understand. */
function text(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`expected text in the synthesized template, got ${JSON.stringify(value)}`);
}
