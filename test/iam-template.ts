/**
 * A synthesized template read the way AWS will read it at deploy time, for the policy engine:
 * every intrinsic resolved to the name or ARN CloudFormation would give it (generated names
 * become `<stack>-<logicalId>`), role policies gathered per role, resource policies (bus
 * policies, topic policies, key policies, Lambda permissions) gathered per resource ARN.
 */

import { runSimulation } from '@cloud-copilot/iam-simulate';
import { LOCAL_ACCOUNT } from '../local/definitions';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Record<string, Json>[];
}

const SECRET_SUFFIX = 'AbCdEf';

export class ResolvedStack {
  readonly resources: Readonly<Record<string, Resource>>;

  constructor(
    template: { Resources: Record<string, Resource> },
    readonly stackName: string,
    readonly region: string,
    readonly account: string,
  ) {
    this.resources = template.Resources;
  }

  private prop(id: string, key: string): string | undefined {
    const v = this.resources[id]?.Properties?.[key];
    return v === undefined ? undefined : String(this.resolve(v));
  }

  private arn(service: string, resource: string, region = this.region): string {
    return `arn:aws:${service}:${region}:${this.account}:${resource}`;
  }

  /** What `Ref` gives for a resource of this stack. */
  ref(id: string): string {
    const r = this.resources[id];
    if (r === undefined) throw new Error(`${this.stackName}: no resource ${id}`);
    const generated = `${this.stackName}-${id}`;
    switch (r.Type) {
      case 'AWS::IAM::Role':
        return this.prop(id, 'RoleName') ?? generated;
      case 'AWS::DynamoDB::GlobalTable':
        return this.prop(id, 'TableName') ?? generated;
      case 'AWS::SNS::Topic':
        return this.arn('sns', this.prop(id, 'TopicName') ?? generated);
      case 'AWS::StepFunctions::StateMachine':
        return this.arn('states', `stateMachine:${this.prop(id, 'StateMachineName') ?? generated}`);
      case 'AWS::Events::EventBus':
        return this.prop(id, 'Name') ?? generated;
      case 'AWS::SecretsManager::Secret':
        return this.arn('secretsmanager', `secret:${this.prop(id, 'Name') ?? generated}-${SECRET_SUFFIX}`);
      case 'AWS::Logs::LogGroup':
        return this.prop(id, 'LogGroupName') ?? generated;
      case 'AWS::Lambda::Function':
        return this.prop(id, 'FunctionName') ?? generated;
      case 'AWS::KMS::Key':
        return `key-${id}`;
      default:
        return generated;
    }
  }

  /** What `Fn::GetAtt [id, attribute]` gives. */
  getAtt(id: string, attribute: string): string {
    const r = this.resources[id];
    if (r === undefined) throw new Error(`${this.stackName}: no resource ${id}`);
    const name = this.ref(id);
    const key = `${r.Type}.${attribute}`;
    switch (key) {
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${this.account}:role/${name}`;
      case 'AWS::DynamoDB::GlobalTable.Arn':
        return this.arn('dynamodb', `table/${name}`);
      case 'AWS::Events::EventBus.Arn':
        return this.arn('events', `event-bus/${name}`);
      case 'AWS::Events::EventBus.Name':
        return name;
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${name}`);
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${name}:*`);
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${name}`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name}`;
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${name}`);
      case 'AWS::SNS::Topic.TopicArn':
        return name;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return name;
      case 'AWS::StepFunctions::StateMachine.Name':
        return name.split(':').pop() as string;
      case 'AWS::CloudWatch::Alarm.Arn':
        return this.arn('cloudwatch', `alarm:${this.prop(id, 'AlarmName') ?? `${this.stackName}-${id}`}`);
      default:
        throw new Error(`${this.stackName}: no model of Fn::GetAtt ${key}; add it to test/iam-template.ts`);
    }
  }

  /** Resolves every intrinsic in a value. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = o[k];
      switch (k) {
        case 'Ref': {
          const pseudo: Record<string, string> = {
            'AWS::Partition': 'aws',
            'AWS::Region': this.region,
            'AWS::AccountId': this.account,
            'AWS::URLSuffix': 'amazonaws.com',
            'AWS::StackName': this.stackName,
            'AWS::StackId': this.arn('cloudformation', `stack/${this.stackName}/0e9a11c2-3f2f-4a8e-9c55-3c1f0f0e9a11`),
          };
          return pseudo[arg as string] ?? this.ref(arg as string);
        }
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg)
            ? (arg as [string, string])
            : (String(arg).split('.') as [string, string]);
          return this.getAtt(id, attribute);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, Json];
          return String(this.resolve(text)).split(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))];
        }
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v)]));
  }

  private ofType(type: string): [string, Resource][] {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /**
   * The role's name and its identity policies (inline policies of the role and every AWS::IAM::Policy attached to it).
   */
  rolePolicies(roleName: string): PolicyDocument[] {
    const role = this.ofType('AWS::IAM::Role').find(([id]) => this.ref(id) === roleName);
    if (role === undefined) throw new Error(`${this.stackName}: no role named ${roleName}`);
    const [roleId, r] = role;
    const inline = ((r.Properties?.Policies as { PolicyDocument: Json }[] | undefined) ?? []).map(
      (p) => this.resolve(p.PolicyDocument) as PolicyDocument,
    );
    const attached = this.ofType('AWS::IAM::Policy')
      .filter(([, p]) =>
        ((p.Properties?.Roles as { Ref: string }[] | undefined) ?? []).some((ref) => ref.Ref === roleId),
      )
      .map(([, p]) => this.resolve(p.Properties?.PolicyDocument) as PolicyDocument);
    if ((r.Properties?.ManagedPolicyArns as unknown[] | undefined)?.length)
      throw new Error(`${roleName} has managed policies; the IAM check cannot see into them`);
    return [...inline, ...attached];
  }

  roleNames(): string[] {
    return this.ofType('AWS::IAM::Role').map(([id]) => this.ref(id));
  }

  /** The trust policy of the role. */
  trustPolicy(roleName: string): PolicyDocument {
    const role = this.ofType('AWS::IAM::Role').find(([id]) => this.ref(id) === roleName);
    if (role === undefined) throw new Error(`${this.stackName}: no role named ${roleName}`);
    return this.resolve(role[1].Properties?.AssumeRolePolicyDocument) as PolicyDocument;
  }

  /** Resource policies by the ARN of the resource they guard. */
  resourcePolicies(): Map<string, PolicyDocument> {
    const out = new Map<string, PolicyDocument>();
    const add = (arn: string, statements: Record<string, Json>[]) => {
      const doc = out.get(arn) ?? { Version: '2012-10-17', Statement: [] };
      out.set(arn, { ...doc, Statement: [...doc.Statement, ...statements] });
    };
    for (const [, p] of this.ofType('AWS::Events::EventBusPolicy')) {
      const busName = String(this.resolve(p.Properties?.EventBusName));
      add(this.arn('events', `event-bus/${busName}`), [this.resolve(p.Properties?.Statement) as Record<string, Json>]);
    }
    for (const [, p] of this.ofType('AWS::SNS::TopicPolicy')) {
      const doc = this.resolve(p.Properties?.PolicyDocument) as PolicyDocument;
      for (const topic of this.resolve(p.Properties?.Topics) as string[]) add(topic, doc.Statement);
    }
    for (const [id, k] of this.ofType('AWS::KMS::Key'))
      add(this.getAtt(id, 'Arn'), (this.resolve(k.Properties?.KeyPolicy) as PolicyDocument).Statement);
    for (const [, p] of this.ofType('AWS::Lambda::Permission')) {
      const props = this.resolve(p.Properties) as Record<string, string>;
      const fn = props.FunctionName as string;
      add(fn.startsWith('arn:') ? fn : this.arn('lambda', `function:${fn}`), [
        {
          Effect: 'Allow',
          Principal: props.Principal?.endsWith('.amazonaws.com')
            ? { Service: props.Principal }
            : { AWS: props.Principal },
          Action: props.Action,
          Resource: fn,
          ...(props.SourceArn === undefined ? {} : { Condition: { ArnLike: { 'aws:SourceArn': props.SourceArn } } }),
        },
      ]);
    }
    return out;
  }

  /** Physical name → resolved properties, for the resources of one type. */
  named(type: string): { id: string; name: string; arn?: string; properties: Record<string, Json> }[] {
    return this.ofType(type).map(([id, r]) => ({
      id,
      name: this.ref(id),
      properties: this.resolve(r.Properties ?? {}) as Record<string, Json>,
    }));
  }
}

export interface Check {
  readonly what: string;
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly identity: PolicyDocument[];
  readonly resourcePolicy?: PolicyDocument;
  readonly context?: Record<string, string | string[]>;
}

/** A real policy engine's decision on one request: Allowed, ImplicitlyDenied or ExplicitlyDenied. */
export async function decide(check: Check, account: string = LOCAL_ACCOUNT): Promise<string> {
  const principalContext: Record<string, string | string[]> = check.principal.startsWith('arn:')
    ? { 'aws:PrincipalArn': check.principal, 'aws:PrincipalAccount': account }
    : {};
  const result = await runSimulation(
    {
      request: {
        principal: check.principal,
        action: check.action,
        resource: { resource: check.resource, accountId: account },
        contextVariables: { 'aws:SecureTransport': 'true', ...principalContext, ...check.context },
      },
      identityPolicies: check.identity.map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(check.resourcePolicy === undefined ? {} : { resourcePolicy: check.resourcePolicy }),
    },
    {},
  );
  if (result.resultType === 'error') return `error: ${JSON.stringify(result.errors).slice(0, 400)}`;
  return result.overallResult;
}
