import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HandlerName, SiteNames } from '../lib/names';
import type { Health, Heartbeat } from '../lambdas/core/message';
import type { PathState, SiteVerdict } from '../lambdas/core/verdict';
import type { PathId, SiteId } from '../lambdas/core/wire';
import type { HeartbeatModule } from '../lambdas/heartbeat-module/module';
import type { SigningKeys } from '../lambdas/shared/keys';
import type { Settings } from '../lambdas/shared/settings';
import type { SiteStore } from '../lambdas/shared/store';
import type { asHandler, CallSink } from './calls';
import type { SiteClock, VirtualClock } from './clock';
import type { SiteDefinitions } from './definitions';
import type { Random } from './random';
import type { Scenario } from './scenario';

/** What every part of the local runtime shares: the scenario, the clock, the sites, the timeline. */

/** One line of the readable account of a run; also the runtime's own event log. */
export interface TimelineEntry {
  readonly atMs: number;
  readonly site?: SiteId;
  readonly kind: 'fault' | 'command' | 'beats' | 'path' | 'verdict' | 'notice' | 'workflow' | 'role';
  readonly text: string;
}

export interface SimulationOptions {
  readonly dynamoEndpoint: string;
  readonly definitions: Readonly<Record<SiteId, SiteDefinitions>>;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /** Every SDK command a handler sends, with the deployed names of the tables (the IAM check). */
  readonly onCall?: CallSink;
}

export interface Execution {
  status: 'running' | 'waiting' | 'done';
  abort: () => void;
  /**
   * The input it was started with, as given: StartExecution with the same name and input answers again while it runs.
   */
  readonly input?: string;
}

/** One Lambda container of a heartbeat module: its state lives as long as the container. */
export interface Container {
  readonly module: HeartbeatModule;
  /** Running an invocation (from its claim of the ticker to its last tick). */
  busy: boolean;
  /** Whether it has ticked yet: its first tick builds its SDK clients and connections. */
  ticked?: boolean;
}

/** One site as the runtime runs it: its tables, its heartbeat module, what faults did to it, what it last reported. */
export interface Site {
  readonly id: SiteId;
  readonly settings: Settings;
  readonly db: DynamoDBDocumentClient;
  readonly store: SiteStore;
  /** The site's warm Lambda containers of the heartbeat module; `busy` while one runs an invocation. */
  readonly containers: Container[];
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
  /** Its own clocks: the wall clock's skew, the rate of both (`skew` and `drift` faults). */
  readonly clock: SiteClock;
  health: Health;
  role: 'primary' | 'secondary' | undefined;
  epoch: number | undefined;
  verdict: SiteVerdict | undefined;
  readonly states: Partial<Record<PathId, PathState>>;
  /** Valid network beats this site received, kept for replay faults. */
  readonly received: Heartbeat[];
  readonly executions: Map<string, Execution>;
  /** Failover executions waiting for `mirrorbeat approve` / `reject`, oldest first. */
  readonly approvals: { name: string; settle: (error?: Error) => void }[];
  readonly counts: Record<PathId, { sent: number; failed: number; accepted: number }>;
}

export interface World {
  readonly scenario: Scenario;
  readonly options: SimulationOptions;
  readonly clock: VirtualClock;
  readonly random: Random;
  readonly sites: Record<SiteId, Site>;
  readonly intervalMs: number;
  note(entry: Omit<TimelineEntry, 'atMs'>): void;
  names(site: SiteId): SiteNames;
  /** A fake ARN in the site's region and the local account. */
  arn(site: Site, service: string, resource: string): string;
  keys(): SigningKeys;
  /** The handler a call is recorded for, when calls are recorded. */
  caller(site: Site, handler: HandlerName): Parameters<typeof asHandler>[0];
}

/** A crashed or frozen site acts as nothing. */
export const acting = (world: World, site: Site): boolean => !site.crashed && world.clock.nowMs >= site.pausedUntilMs;
