import { z } from 'zod';
import { MAX_CLUSTER_NAME_LENGTH } from './names';
import {
  AURORA_CLUSTER_ARN,
  capacityUnits,
  email,
  LAMBDA_ARN,
  list,
  LOG_RETENTION_DAYS,
  region,
  ROUTING_CONTROL_ARN,
  seconds,
} from './config-rules';

export { LOG_RETENTION_DAYS, STRONG_CONSISTENCY_REGION_SETS } from './config-rules';

const MEMORY_RULE = 'a whole number of MB from 128 to 3008';

/**
 * Every key of the configuration as written in cdk.json (or with `-c`), its type, its range
 * and its description; the defaults that depend on other keys are filled in by lib/config.ts.
 */

/** The longest name derived from the cluster name (an IAM role's) sets its length. */
const CLUSTER_NAME_RULE = `the cluster name: lower-case letters, digits and hyphens, 1 to ${MAX_CLUSTER_NAME_LENGTH} characters, starting with a letter`;

/** The capacity one site's workload needs when that site is promoted. */
const siteCapacity = z.strictObject({
  autoScalingGroups: z
    .array(
      z.strictObject({
        name: z.string().min(1, 'an Auto Scaling group name').max(255),
        minSize: z.number().int('a whole number').min(0, 'at least 0'),
        desiredCapacity: z.number().int('a whole number').min(0, 'at least 0'),
      }),
    )
    .max(10, 'at most 10 groups')
    .default([]),
  ecsServices: z
    .array(
      z.strictObject({
        cluster: z.string().min(1, 'an ECS cluster name').max(255),
        service: z.string().min(1, 'an ECS service name').max(255),
        desiredCount: z.number().int('a whole number').min(0, 'at least 0'),
      }),
    )
    .max(10, 'at most 10 services')
    .default([]),
});

/** The keys as written, before the defaults that depend on other keys are filled in. */
export const configObject = z.strictObject({
  clusterName: z
    .string({ error: CLUSTER_NAME_RULE })
    .regex(new RegExp(`^[a-z][a-z0-9-]{0,${MAX_CLUSTER_NAME_LENGTH - 1}}$`), CLUSTER_NAME_RULE)
    .describe('Name of the protected cluster; prefixes every physical name (tables, bus, topics, roles).'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional()
    .describe(
      'Account both sites deploy to. Without it, the account of the deploying credentials (CDK_DEFAULT_ACCOUNT); synth works with none.',
    ),
  productionRegion: region('the production region').describe(
    'Region of the production site (primary at first deploy, epoch 1).',
  ),
  standbyRegion: region('the standby region').describe(
    'Region of the standby site; holds the heartbeat volume replica.',
  ),
  witnessRegion: region('the witness region')
    .optional()
    .describe(
      "Witness region of quorum mode (consistency strong): by default the first other region of the production and standby regions' region set. Refused with consistency eventual.",
    ),
  consistency: z
    .enum(['eventual', 'strong'], { error: 'eventual or strong' })
    .optional()
    .describe(
      "strong (quorum mode, the default wherever production and standby lie in one of DynamoDB's multi-region strong consistency region sets): the cluster record needs a majority of production, standby and witness; eventual (two-region mode, the default elsewhere): an asynchronous global table, no quorum.",
    ),
  intervalSeconds: z
    .number({ error: 'an integer number of seconds from 1 to 20' })
    .int('an integer number of seconds from 1 to 20')
    .min(1, 'an integer number of seconds from 1 to 20')
    .max(20, 'an integer number of seconds from 1 to 20')
    .default(2)
    .describe('Heartbeat period on each path.'),
  deadlineFloorSeconds: seconds(1, 600, 'the shortest path deadline')
    .optional()
    .describe(
      'Shortest deadline the adaptive detector may use before a path counts as failed; at least 2 × intervalSeconds. Default 3 × intervalSeconds.',
    ),
  deadlineCeilingSeconds: seconds(1, 3600, 'the longest path deadline')
    .optional()
    .describe(
      "Longest deadline the adaptive detector may use, also the bound on a beat's clock skew; greater than deadlineFloorSeconds. Default the larger of 30 and 5 × deadlineFloorSeconds.",
    ),
  phiThreshold: z
    .number({ error: 'a number from 1 to 16' })
    .min(1, 'a number from 1 to 16')
    .max(16, 'a number from 1 to 16')
    .default(8)
    .describe('Phi-accrual suspicion level at which a path turns from suspect to failed.'),
  confirmationWindowSeconds: seconds(0, 600, 'the confirmation window')
    .optional()
    .describe(
      'How long every enabled path must stay failed before the peer counts as lost. Default intervalSeconds in quorum mode (the lease gates every takeover there), 5 × intervalSeconds in two-region mode.',
    ),
  failoverMode: z
    .enum(['automatic', 'approval', 'manual'], { error: 'automatic, approval or manual' })
    .optional()
    .describe(
      'automatic: the standby promotes itself; approval: it asks on SNS and waits for `mirrorbeat approve`; manual: it only notifies. Default automatic in quorum mode and in two-region mode under isolationPolicy self-fence, approval otherwise.',
    ),
  approvalTimeoutSeconds: seconds(60, 86_400, 'the approval timeout')
    .default(1800)
    .describe(
      'Under failoverMode approval: how long an automatic failover waits for `mirrorbeat approve` before it gives up (aborted, nothing changed).',
    ),
  rpoBudgetSeconds: seconds(1, 3600, 'the RPO budget')
    .default(30)
    .describe('Largest heartbeat-volume replication latency at which failover may proceed.'),
  isolationPolicy: z
    .enum(['self-fence', 'stay-primary'], { error: 'self-fence or stay-primary' })
    .optional()
    .describe(
      'Two-region mode only: what a primary does when no valid beat sent by its peer in the last leaseSeconds reached it on any path: self-fence (stop acting as primary, call the fence hook; needed for automatic failover) or stay-primary (the default: a lost standby never takes the primary down). In quorum mode the lease decides and this key is refused.',
    ),
  leaseSeconds: seconds(1, 3600, 'the primary lease')
    .optional()
    .describe(
      'The primary lease: a primary acts only while its last successful renewal started less than this long ago by its own clock; the standby waits this long plus a drift margin after the last renewal it saw. Default in quorum mode the larger of 3.5 × intervalSeconds and intervalSeconds + 5 (a sender paused 5 s between ticks keeps its lease), in two-region mode 6 × intervalSeconds; under two-region self-fence less than deadlineFloorSeconds + confirmationWindowSeconds.',
    ),
  logRetentionDays: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(30)
    .describe('Retention of every log group mirrorbeat creates.'),
  reserveConcurrency: z
    .boolean({ error: 'true or false' })
    .default(true)
    .describe(
      "Set aside Lambda concurrency for the handlers (13 per site), so a workload in the same account and region cannot throttle the beats. An account must keep 100 unreserved: turn this off only where the account's limit is too low (npx mirrorbeat preflight tells).",
    ),
  gameDay: z
    .boolean({ error: 'true or false' })
    .default(false)
    .describe(
      'Game day: FIS experiment templates in each site stack that break its own parts (npx mirrorbeat gameday list), the FIS Lambda extension on the heartbeat module and the network receiver, and a bucket for its configuration. Nothing runs until you start an experiment.',
    ),
  tracing: z
    .enum(['failover', 'all'], { error: 'failover or all' })
    .default('failover')
    .describe(
      'X-Ray tracing: failover (the failover and path-control steps and both state machines, which run rarely) or all (also the heartbeat module and the network receiver, every beat: about $13 a month per site pair at interval 2).',
    ),
  heartbeatModuleMemoryMb: z
    .int({ error: MEMORY_RULE })
    .min(128, MEMORY_RULE)
    .max(3008, MEMORY_RULE)
    .default(256)
    .describe(
      "The heartbeat module's memory: it runs all the time, so this is most of the Lambda bill, and Lambda gives CPU in proportion to it. Below 256, check each invocation's summary line (tick wall time against the path timeout) before relying on it.",
    ),
  tableCapacity: z
    .strictObject({
      heartbeatVolume: capacityUnits('tableCapacity.heartbeatVolume').optional(),
      observations: capacityUnits('tableCapacity.observations').optional(),
    })
    .prefault({})
    .describe(
      "Provisioned capacity instead of on demand, per table (heartbeatVolume in each of its regions, two-region mode only; each site's observations): the read and write units kept at least (auto scaling may raise them to 4 times that). npm run bench measures the steady traffic and prints the units for your interval. Absent: on demand.",
    ),
  notifications: z
    .strictObject({
      criticalEmails: list(email)
        .default([])
        .describe('Addresses subscribed to the critical topic (peer lost, failover, unprotected).'),
      warningEmails: list(email)
        .default([])
        .describe('Addresses subscribed to the warning topic (one path failed, command refused).'),
      foldAfter: z
        .number()
        .int('a whole number')
        .min(0, 'at least 0 (0 turns folding off)')
        .max(100, 'at most 100')
        .default(3)
        .describe(
          'At most this many warning notices of one kind and path per fold window; the rest are folded into one summary when the window ends. 0: never fold. Critical notices are never folded.',
        ),
      publishInfo: z
        .boolean({ error: 'true or false' })
        .default(false)
        .describe(
          'Also publish info notices (a switchover started or completed, a planned demotion) to the warning topic, with the message attribute severity = info for subscription filters. Off: they are recorded for status, history and the page, and page no one.',
        ),
      foldWindowSeconds: seconds(60, 86_400, 'the notice fold window')
        .default(900)
        .describe('The rate-limit window of warning notices, per kind and path.'),
      runbookUrl: z
        .url({ protocol: /^https$/, error: 'an https:// URL' })
        .optional()
        .describe(
          'Your runbook for this cluster, linked from every notice and from the dashboard (default: docs/OPERATIONS.md of mirrorbeat is named instead).',
        ),
    })
    .prefault({}),
  promotion: z
    .strictObject({
      arc: z
        .strictObject({
          clusterEndpoints: z
            .array(
              z.strictObject({
                url: z.url({
                  protocol: /^https$/,
                  error: 'a Route 53 ARC cluster endpoint URL such as https://host-abc.us-east-1.example.com/v1',
                }),
                region: region('the endpoint region'),
              }),
            )
            .min(1, 'at least one cluster endpoint (aws route53-recovery-control-config describe-cluster lists five)')
            .max(5, 'at most five cluster endpoints'),
          routingControls: z.strictObject({
            production: z.string().regex(ROUTING_CONTROL_ARN, 'a Route 53 ARC routing control ARN'),
            standby: z.string().regex(ROUTING_CONTROL_ARN, 'a Route 53 ARC routing control ARN'),
          }),
        })
        .optional()
        .describe(
          "Route 53 ARC: the cluster endpoints and one routing control per site; promotion sets the promoted site's On and the other's Off.",
        ),
      route53FailoverRecord: z
        .strictObject({
          hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'a hosted zone id such as Z0123456789ABC'),
          recordName: z.string().min(1, 'a DNS name such as api.example.com'),
          healthCheckId: z.uuid('a Route 53 health check id (a UUID)'),
        })
        .optional()
        .describe(
          'The production (PRIMARY) record of a Route 53 failover pair and its health check; promotion of the standby inverts the check, promotion of production restores it.',
        ),
      route53Records: z
        .strictObject({
          hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'a hosted zone id such as Z0123456789ABC'),
          recordName: z.string().min(1, 'a DNS name such as api.example.com').max(255),
          recordType: z.enum(['A', 'AAAA', 'CNAME'], { error: 'A, AAAA or CNAME' }).default('A'),
          routing: z.enum(['failover', 'weighted'], { error: 'failover or weighted' }),
          setIdentifiers: z.strictObject({
            production: z.string().min(1, "the production record's set identifier").max(128),
            standby: z.string().min(1, "the standby record's set identifier").max(128),
          }),
          weight: z.number().int('a whole number').min(1, 'at least 1').max(255, 'at most 255').default(100),
        })
        .optional()
        .describe(
          "A Route 53 record pair, one record per site (by set identifier): promotion makes the promoted site's record PRIMARY and the other SECONDARY (failover routing), or gives it the weight and the other 0 (weighted), in one change, and waits until Route 53 reports it INSYNC.",
        ),
      auroraGlobalDatabase: z
        .strictObject({
          globalClusterIdentifier: z
            .string()
            .regex(/^[A-Za-z][0-9A-Za-z-]{0,62}$/, 'a global database identifier such as orders-global'),
          clusterArns: z.strictObject({
            production: z.string().regex(AURORA_CLUSTER_ARN, "the production region's member cluster ARN"),
            standby: z.string().regex(AURORA_CLUSTER_ARN, "the standby region's member cluster ARN"),
          }),
          waitSeconds: seconds(60, 3600, 'waitSeconds').default(900),
        })
        .optional()
        .describe(
          "An Aurora global database with one member cluster in each site's region: promotion makes the promoted site's cluster the writer (SwitchoverGlobalCluster for a switchover, FailoverGlobalCluster with AllowDataLoss for a failover) and waits until it is the available writer, at most waitSeconds.",
        ),
      capacity: z
        .strictObject({
          production: siteCapacity.optional(),
          standby: siteCapacity.optional(),
          whenFenced: z.enum(['keep', 'zero'], { error: 'keep or zero' }).default('keep'),
        })
        .optional()
        .describe(
          "The capacity each site's workload needs when that site is promoted, set in its region before traffic moves: Auto Scaling groups (minimum and desired, the maximum raised when below) and ECS services (desired count).",
        ),
      hookFunctionArn: z
        .string()
        .regex(LAMBDA_ARN, 'a Lambda function ARN')
        .optional()
        .describe('Your Lambda, invoked with the decision record after the built-in promotion actions.'),
    })
    .prefault({}),
  readiness: z
    .strictObject({
      ebs: z
        .strictObject({
          volumes: z
            .array(
              z.union(
                [
                  z.strictObject({
                    volumeId: z
                      .string()
                      .regex(/^vol-[0-9a-f]{8,17}$/, 'an EBS volume id such as vol-0123456789abcdef0'),
                  }),
                  z.strictObject({
                    tag: z.strictObject({
                      key: z.string().min(1, 'a tag key').max(128, 'a tag key of at most 128 characters'),
                      value: z.string().max(256, 'a tag value of at most 256 characters'),
                    }),
                  }),
                ],
                { error: 'each volume is {"volumeId": "vol-…"} or {"tag": {"key": "…", "value": "…"}}' },
              ),
            )
            .min(1, 'at least one protected volume')
            .max(20, 'at most 20 volumes (each costs a few EBS direct API calls per failover)'),
          maxSnapshotAgeSeconds: seconds(60, 7 * 86_400, 'the largest snapshot age')
            .default(3600)
            .describe(
              "A volume is ready only when its newest completed snapshot in the promoted site's region is at most this old.",
            ),
          policy: z
            .enum(['block', 'warn'], { error: 'block or warn' })
            .default('block')
            .describe(
              'block: a volume that is not ready stops the failover (GatesBlocked); warn: it goes on, with the figures in the decision record.',
            ),
          kmsKeyArns: list(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/, 'a KMS key ARN'))
            .default([])
            .describe(
              'The keys that encrypt the snapshots in the standby region: reading a block needs kms:Decrypt on them.',
            ),
        })
        .optional()
        .describe(
          'Data readiness gate on EBS (EBS direct APIs): the protected volumes, by id (snapshots of it, or copies tagged mirrorbeat:volume=<id>) or by tag; checked before every promotion.',
        ),
      checkMinutes: z
        .int({ error: 'the readiness check interval: a whole number of minutes, 0 (off) or from 5 to 1440' })
        .refine((m) => m === 0 || (m >= 5 && m <= 1440), {
          error: 'the readiness check interval: a whole number of minutes, 0 (off) or from 5 to 1440',
        })
        .default(30)
        .describe(
          'How often each site checks that a failover to it would succeed now (gates, quorum, approvers, promotion targets, hooks): the FailoverNotReady alarm, readiness notices and the readiness line of status. 0: no scheduled check (mirrorbeat readiness still runs one).',
        ),
    })
    .prefault({}),
  health: z
    .strictObject({
      alarmNames: list(z.string().min(1).max(255, 'a CloudWatch alarm name of at most 255 characters'))
        .default([])
        .describe(
          "CloudWatch alarms (in the site's region) that watch the protected workload; any in ALARM makes the site's beats say health failed.",
        ),
      url: z
        .url({ protocol: /^https$/, error: "an https:// URL of the workload's health endpoint" })
        .optional()
        .describe(
          'HTTPS health endpoint of the workload, probed every tick; a non-2xx answer, an error or a timeout is failed.',
        ),
      timeoutMs: z
        .number({ error: 'a number of milliseconds from 100 to 5000' })
        .int('a whole number of milliseconds from 100 to 5000')
        .min(100, 'at least 100 ms')
        .max(5000, 'at most 5000 ms')
        .optional()
        .describe(
          'How long each health source may take per tick; at most 40 % of intervalSeconds so the beat is never late. Default the smaller of 800 and 30 % of intervalSeconds.',
        ),
      onPeerFailure: z
        .enum(['notify', 'failover'], { error: 'notify or failover' })
        .default('notify')
        .describe(
          "What the secondary does when valid beats say the primary's workload failed: notify only, or start failover.",
        ),
    })
    .prefault({}),
  fenceHookFunctionArn: z
    .string()
    .regex(LAMBDA_ARN, 'a Lambda function ARN')
    .optional()
    .describe(
      "Your Lambda, invoked once by the promoting site's fence step and once by a demoted site's heartbeat module, to stop the old primary's workload.",
    ),
  cooldownSeconds: seconds(0, 86_400, 'the failover cooldown')
    .default(3600)
    .describe(
      'After a promotion, no automatic failover on a reported workload failure for this long (no ping-pong); a lost primary is always replaced, and a person can always fail over or switch over.',
    ),
});
