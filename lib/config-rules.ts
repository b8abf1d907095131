import { z } from 'zod';

/** The value rules the configuration's keys share (lib/config-keys.ts): types, ranges and the message each gives. */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
export const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
export const ROUTING_CONTROL_ARN =
  /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[a-z0-9]+\/routingcontrol\/[a-z0-9]+$/;
export const AURORA_CLUSTER_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z][0-9A-Za-z-]{0,62}$/;

/** Region sets in which DynamoDB multi-region strong consistency is offered (three regions of one set). */
export const STRONG_CONSISTENCY_REGION_SETS: readonly (readonly string[])[] = [
  ['us-east-1', 'us-east-2', 'us-west-2'],
  ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
];

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A list key also accepts one comma-separated string, which is what `-c key=a,b` gives. */
export function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : v,
    z.array(item),
  );
}

export const region = (what: string) =>
  z
    .string({ error: `${what}: an AWS region code such as us-east-1` })
    .regex(REGION, `${what}: an AWS region code such as us-east-1`);

export const email = z.email({ error: 'an e-mail address such as oncall@example.com' });

/** A number of seconds within a range; every refusal states the whole range, not only the bound it crossed. */
export const seconds = (min: number, max: number, what: string) => {
  const range = `${what}: a number of seconds from ${min} to ${max}`;
  return z.number({ error: range }).min(min, range).max(max, range);
};

/** Provisioned capacity of one table: whole read and write units a second. */
const units = (key: string, rule = `${key}: a whole number of units from 1 to 10000`) =>
  z.int({ error: rule }).min(1, rule).max(10_000, rule);
export const capacityUnits = (key: string) =>
  z.strictObject({ read: units(`${key}.read`), write: units(`${key}.write`) });
