import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  checkControl,
  describeChanges,
  type PathChange,
  pathAckSchema,
  signCommand,
  unprotectedRefusal,
} from '../core/command';
import { executionName, PATH_CONTROL_EXAMPLE, refuseUnknownKeys, StepError, type StepInput } from '../core/steps';
import { DetailType, EVENT_SOURCE, PATH_MODES, PATHS, type PathId, type PathMode } from '../core/wire';
import { deadline } from '../shared/deadlines';
import type { SigningKeys } from '../shared/keys';
import type { Settings } from '../shared/settings';
import type { SiteStore } from '../shared/store';
import { NOTIFY_STEP, type NotifyDeps, runNotifyStep } from '../shared/workflow-notices';

export const PATH_CONTROL_STEPS = ['apply', 'forward', 'check-ack', 'finalize', 'rollback', NOTIFY_STEP] as const;

/** How long the peer has to acknowledge a request command before the change is rolled back. */
export const ACK_TIMEOUT_INTERVALS = 15;

/** One request command: one path, or both at once, switched at both sites with one acknowledgement. */
export interface PathCommand {
  readonly changes: readonly PathChange[];
  readonly reason: string;
  readonly force: boolean;
}

/** What a person may type into the console, in either form, and the keys the workflow's own steps add. */
const INPUT_KEYS = ['path', 'action', ...PATHS, 'reason', 'force', 'requestedBy'] as const;
const RESULT_KEYS = ['apply', 'forward', 'ack', 'finalize', 'rollback', 'error', 'failure'] as const;

export interface PathControlDeps extends NotifyDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly keys: Pick<SigningKeys, 'current' | 'all'>;
  readonly now: () => number;
}

/** The console input, checked field by field; a bad one fails the execution with the field named and the fix. */
export function parsePathCommand(state: Record<string, unknown>): PathCommand {
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    throw new StepError('InvalidInput', `input: expected an object such as ${PATH_CONTROL_EXAMPLE}`);
  refuseUnknownKeys(state, INPUT_KEYS, RESULT_KEYS, PATH_CONTROL_EXAMPLE);
  const { path, action, reason = '', force = false, requestedBy } = state;
  const perPath = PATHS.filter((p) => state[p] !== undefined);
  let changes: PathChange[];
  if (path !== undefined || action !== undefined) {
    if (perPath.length > 0)
      throw new StepError(
        'InvalidInput',
        `${perPath.join(', ')}: give either "path" and "action", or one action per path ("network": "activate"), not both`,
      );
    if (!PATHS.includes(path as PathId))
      throw new StepError('InvalidInput', `path: got ${JSON.stringify(path)}; allowed: "network" or "storage"`);
    changes = [{ path: path as PathId, action: actionOf('action', action) }];
  } else {
    if (perPath.length === 0)
      throw new StepError('InvalidInput', `path: missing; give a path and an action, such as ${PATH_CONTROL_EXAMPLE}`);
    changes = perPath.map((p) => ({ path: p, action: actionOf(p, state[p]) }));
  }
  if (typeof reason !== 'string' || reason.length > 500)
    throw new StepError('InvalidInput', 'reason: expected a text of at most 500 characters');
  if (typeof force !== 'boolean')
    throw new StepError('InvalidInput', `force: got ${JSON.stringify(force)}; allowed: true or false`);
  if (requestedBy !== undefined && (typeof requestedBy !== 'string' || requestedBy.length > 128))
    throw new StepError('InvalidInput', 'requestedBy: expected who asked, a text of at most 128 characters');
  return { changes, reason, force };
}

function actionOf(field: string, value: unknown): PathChange['action'] {
  if (value !== 'activate' && value !== 'deactivate')
    throw new StepError('InvalidInput', `${field}: got ${JSON.stringify(value)}; allowed: "activate" or "deactivate"`);
  return value;
}

const setMode = (deps: PathControlDeps, path: PathId, mode: PathMode, changedBy: string, reason: string) =>
  deps.store.paths.setPathMode(deps.settings.site, path, mode, changedBy, reason, deps.now());

export async function runPathControlStep(input: StepInput, deps: PathControlDeps): Promise<Record<string, unknown>> {
  const { settings, store } = deps;
  // A refused command's notice goes out even when the command itself was malformed.
  if (input.step === NOTIFY_STEP) return runNotifyStep(input, deps);
  const command = parsePathCommand(input.state);
  const id = executionName(input.execution);
  switch (input.step) {
    case 'apply': {
      const [modes, states] = await Promise.all([
        Promise.all(PATHS.map((p) => store.paths.readPathMode(settings.site, p))),
        Promise.all(PATHS.map((p) => store.views.readPathState(settings.site, p))),
      ]);
      const modeOf = (p: PathId) => modes[PATHS.indexOf(p)] as PathMode;
      if (!command.force) {
        const refusal = unprotectedRefusal(command.changes, modeOf, (p) => states[PATHS.indexOf(p)]);
        if (refusal !== undefined)
          throw new StepError(
            'CommandRefused',
            `refusing to ${command.changes.length === 1 ? `disable the ${command.changes[0]?.path} path` : describeChanges(command.changes)}: ${refusal}; start again with "force": true to do it anyway`,
          );
      }
      const previousModes: Partial<Record<PathId, PathMode>> = {};
      for (const { path, action } of command.changes) {
        previousModes[path] = modeOf(path);
        await setMode(deps, path, action === 'activate' ? 'pending' : 'disabled', input.execution, command.reason);
      }
      return {
        commandId: id,
        changes: command.changes,
        previousModes,
        ackDeadlineMs: Math.round(deps.now()) + ACK_TIMEOUT_INTERVALS * settings.tuning.intervalSeconds * 1000,
      };
    }
    case 'forward': {
      // The request command, signed, travels on every path that can still carry it, each on its own.
      const apply = input.state.apply as { result?: { ackDeadlineMs?: number } } | undefined;
      const nowMs = Math.round(deps.now());
      const message = signCommand(
        {
          id,
          cluster: settings.cluster,
          from: settings.site,
          to: settings.peer,
          ...command,
          changes: [...command.changes],
          issuedAtMs: nowMs,
          expiresAtMs: Math.round(
            apply?.result?.ackDeadlineMs ?? nowMs + ACK_TIMEOUT_INTERVALS * settings.tuning.intervalSeconds * 1000,
          ),
        },
        await deps.keys.current(),
      );
      const sent = await Promise.allSettled([
        store.paths.putCommand(message),
        deps.peerEvents.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: deps.peerBusArn,
                Source: EVENT_SOURCE,
                DetailType: DetailType.pathCommand,
                Detail: JSON.stringify(message),
              },
            ],
          }),
          deadline(),
        ),
      ]);
      const via = (['storage', 'network'] as const).filter((_, i) => sent[i]?.status === 'fulfilled');
      if (via.length === 0) throw new StepError('Transient', 'the request command could not be sent on either path');
      return { via };
    }
    case 'check-ack': {
      const apply = input.state.apply as { result?: { ackDeadlineMs?: number } } | undefined;
      const deadline = apply?.result?.ackDeadlineMs ?? 0;
      const raw = await store.paths.readAck(id);
      if (raw === undefined) return { acknowledged: false, expired: deps.now() > deadline, peerMode: null };
      const check = checkControl(pathAckSchema, raw, {
        cluster: settings.cluster,
        me: settings.site,
        keys: await deps.keys.all(),
      });
      if (!check.ok)
        throw new StepError(
          'CommandRefused',
          `the acknowledgement of ${id} is not valid (${check.reason}: ${check.detail})`,
        );
      if (!check.message.accepted)
        throw new StepError('CommandRefused', `${settings.peer} refused: ${check.message.detail}`);
      return { acknowledged: true, expired: false, peerModes: check.message.modes, via: 'peer' };
    }
    case 'finalize': {
      const modes: Partial<Record<PathId, PathMode>> = {};
      for (const { path, action } of command.changes) {
        if (action === 'activate') await setMode(deps, path, 'enabled', input.execution, command.reason);
        modes[path] = action === 'activate' ? 'enabled' : 'disabled';
      }
      // One notice for the command: a deactivation in it makes it the (warning) deactivated one.
      const notice = command.changes.some((c) => c.action === 'deactivate') ? 'path-deactivated' : 'path-activated';
      return { modes, notice };
    }
    case 'rollback': {
      const apply = input.state.apply as { result?: { previousModes?: Record<string, unknown> } } | undefined;
      const restored: Partial<Record<PathId, PathMode>> = {};
      for (const { path } of command.changes) {
        const previous = apply?.result?.previousModes?.[path];
        if (!PATH_MODES.includes(previous as PathMode)) continue;
        await setMode(
          deps,
          path,
          previous as PathMode,
          input.execution,
          `rollback: the peer did not acknowledge (${command.reason})`,
        );
        restored[path] = previous as PathMode;
      }
      return { restored: Object.keys(restored).length === 0 ? null : restored };
    }
    default:
      throw new StepError(
        'InvalidInput',
        `step: got ${JSON.stringify(input.step)}; allowed: ${PATH_CONTROL_STEPS.join(', ')}`,
      );
  }
}
