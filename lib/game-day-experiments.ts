import { RUN_FOR_MS } from '../lambdas/heartbeat-module/driver';
import { peerOf, type SiteId } from '../lambdas/core/wire';

/**
 * The game day (a contract: `mirrorbeat gameday list | plan | run`, and the FIS experiment templates the site stacks
 * hold when `gameDay` is on). One definition serves the stacks (lib/game-day.ts), the CLI and the tests: each
 * experiment names its fault as FIS injects it and its twin scenario in local/scenarios/, whose `expect` list judges
 * the local run and the real one alike.
 */

/** The templates each site stack holds, each acting on that site's own part. */
export const GAME_DAY_TEMPLATES = ['module-fails', 'replica-isolated', 'receiver-fails'] as const;
export type GameDayTemplate = (typeof GAME_DAY_TEMPLATES)[number];

/** How FIS injects a template's fault (docs/OPERATIONS.md, "Game day", cites the FIS actions reference). */
export interface FisFault {
  readonly actionId: string;
  /** The resource type of the action's target, and the key the action names it by. */
  readonly resourceType: string;
  readonly targetKey: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly durationMinutes: number;
  /** What it does, in a sentence a person reads before starting it. */
  readonly what: string;
}

/**
 * A heartbeat module's invocation ticks for up to RUN_FOR_MS, and FIS fails only invocations that start during the
 * experiment: the site falls silent when its running ticker's invocation ends, at most RUN_FOR_MS after the start.
 * The experiment outlasts that by four minutes: detection, the failover workflow and a look at the result.
 */
const MODULE_FAILS_MINUTES = Math.ceil(RUN_FOR_MS / 60_000) + 4;
/** A replica isolation or a cut path: a lease and a failover take well under a minute; five show the steady state. */
const PATH_FAULT_MINUTES = 5;

const lambdaError = (minutes: number, what: string): FisFault => ({
  actionId: 'aws:lambda:invocation-error',
  resourceType: 'aws:lambda:function',
  targetKey: 'Functions',
  // preventExecution: the handler does not run at all; every invocation that starts fails.
  parameters: { duration: `PT${minutes}M`, invocationPercentage: '100', preventExecution: 'true' },
  durationMinutes: minutes,
  what,
});

export const FIS_FAULTS: Readonly<Record<GameDayTemplate, FisFault>> = {
  'module-fails': lambdaError(
    MODULE_FAILS_MINUTES,
    `every invocation of the site's heartbeat module that starts fails (FIS Lambda extension); the site falls silent when its running ticker ends, at most ${RUN_FOR_MS / 60_000} minutes after the start`,
  ),
  'replica-isolated': {
    actionId: 'aws:dynamodb:global-table-pause-replication',
    resourceType: 'aws:dynamodb:global-table',
    targetKey: 'Tables',
    parameters: { duration: `PT${PATH_FAULT_MINUTES}M` },
    durationMinutes: PATH_FAULT_MINUTES,
    what: "the site's replica of the heartbeat volume stops replicating, both ways (on a multi-region strongly consistent table it is cut from the other replica and the witness)",
  },
  'receiver-fails': lambdaError(
    PATH_FAULT_MINUTES,
    "every invocation of the site's network receiver fails: the peer's network beats no longer reach it",
  ),
};

export type GameDayMode = 'quorum' | 'two-region';

export interface GameDayExperiment {
  readonly name: string;
  /** Where the template acts: the site that has this role when the run starts. */
  readonly at: 'primary' | 'secondary';
  readonly template: GameDayTemplate;
  /** Its twin scenario in local/scenarios/, per mode (without `.json`). */
  readonly twins: Readonly<Record<GameDayMode, string>>;
  /** Whether the run must see a failover, per mode: then it needs failoverMode automatic. */
  readonly failsOver: Readonly<Record<GameDayMode, boolean>>;
}

export const GAME_DAY_EXPERIMENTS: readonly GameDayExperiment[] = [
  {
    name: 'primary-crash',
    at: 'primary',
    template: 'module-fails',
    twins: { quorum: 'production-crash', 'two-region': 'gameday-primary-crash-two-region' },
    failsOver: { quorum: true, 'two-region': true },
  },
  {
    name: 'primary-replica-isolated',
    at: 'primary',
    template: 'replica-isolated',
    twins: { quorum: 'gameday-primary-replica-isolated', 'two-region': 'gameday-replica-isolated-two-region' },
    failsOver: { quorum: true, 'two-region': false },
  },
  {
    name: 'standby-replica-isolated',
    at: 'secondary',
    template: 'replica-isolated',
    twins: { quorum: 'gameday-standby-replica-isolated', 'two-region': 'gameday-replica-isolated-two-region' },
    failsOver: { quorum: false, 'two-region': false },
  },
  {
    name: 'network-cut',
    at: 'secondary',
    template: 'receiver-fails',
    twins: { quorum: 'network-partition', 'two-region': 'gameday-network-cut-two-region' },
    failsOver: { quorum: false, 'two-region': false },
  },
];

export function gameDayExperiment(name: string): GameDayExperiment | undefined {
  return GAME_DAY_EXPERIMENTS.find((e) => e.name === name);
}

/** The site an experiment acts on, given the site that is primary when it starts. */
export function targetSite(experiment: GameDayExperiment, primary: SiteId): SiteId {
  return experiment.at === 'primary' ? primary : peerOf(primary);
}

/** Tags on every game-day template: the CLI finds a template by them. */
export const GAME_DAY_TAG = { cluster: 'mirrorbeat:cluster', experiment: 'mirrorbeat:game-day' } as const;

/** The alarm that stops an experiment when no site has acted as primary for longer than a failover takes. */
export const GAME_DAY_NO_PRIMARY_MINUTES = 3;

/** The alarms protecting the experiments themselves: the same at every site, watched by FIS or by `gameday run`. */
export const PROTOCOL_STOP_ALARMS = ['TwoPrimaries', 'GameDayNoPrimary'] as const;

/**
 * A site's stop conditions, by alarm name: the protocol's two, then the workload's own health alarms, as many as FIS
 * takes (five stop conditions a template).
 */
export function stopAlarmNames(alarm: (id: string) => string, healthAlarmNames: readonly string[]): string[] {
  return [...PROTOCOL_STOP_ALARMS.map(alarm), ...healthAlarmNames.slice(0, 5 - PROTOCOL_STOP_ALARMS.length)];
}
