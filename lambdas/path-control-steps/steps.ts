import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { checkControl, lastWorkingPathRefusal, pathAckSchema, signCommand } from '../core/command';
import { executionName, StepError, type StepInput } from '../core/steps';
import { DetailType, EVENT_SOURCE, PATH_MODES, PATHS, type PathId, type PathMode } from '../core/wire';
import { deadline } from '../shared/deadlines';
import type { SigningKeys } from '../shared/keys';
import type { Settings } from '../shared/settings';
import type { SiteStore } from '../shared/store';
import { NOTIFY_STEP, type NotifyDeps, runNotifyStep } from '../shared/workflow-notices';

export const PATH_CONTROL_STEPS = ['apply', 'forward', 'check-ack', 'finalize', 'rollback', NOTIFY_STEP] as const;

/** How long the peer has to acknowledge a request command before the change is rolled back. */
export const ACK_TIMEOUT_INTERVALS = 15;

export interface PathCommand {
  readonly path: PathId;
  readonly action: 'activate' | 'deactivate';
  readonly reason: string;
  readonly force: boolean;
}

export interface PathControlDeps extends NotifyDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly keys: Pick<SigningKeys, 'current' | 'all'>;
  readonly now: () => number;
}

/** The console input, checked field by field; a bad one fails the execution with the field named. */
export function parsePathCommand(state: Record<string, unknown>): PathCommand {
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    throw new StepError(
      'InvalidInput',
      'input: expected an object such as {"path": "network", "action": "deactivate", "reason": "..."}',
    );
  const { path, action, reason = '', force = false } = state;
  if (!PATHS.includes(path as PathId))
    throw new StepError('InvalidInput', `path: got ${JSON.stringify(path)}; allowed: "network" or "storage"`);
  if (action !== 'activate' && action !== 'deactivate')
    throw new StepError('InvalidInput', `action: got ${JSON.stringify(action)}; allowed: "activate" or "deactivate"`);
  if (typeof reason !== 'string' || reason.length > 500)
    throw new StepError('InvalidInput', 'reason: expected a text of at most 500 characters');
  if (typeof force !== 'boolean')
    throw new StepError('InvalidInput', `force: got ${JSON.stringify(force)}; allowed: true or false`);
  return { path: path as PathId, action, reason, force };
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
      const other: PathId = command.path === 'network' ? 'storage' : 'network';
      const [previousMode, otherMode, otherState] = await Promise.all([
        store.paths.readPathMode(settings.site, command.path),
        store.paths.readPathMode(settings.site, other),
        store.views.readPathState(settings.site, other),
      ]);
      if (command.action === 'deactivate' && !command.force) {
        const refusal = lastWorkingPathRefusal(command.path, otherMode, otherState);
        if (refusal !== undefined)
          throw new StepError(
            'CommandRefused',
            `refusing to disable the ${command.path} path: ${refusal}; start again with "force": true to do it anyway`,
          );
      }
      await setMode(
        deps,
        command.path,
        command.action === 'activate' ? 'pending' : 'disabled',
        input.execution,
        command.reason,
      );
      return {
        commandId: id,
        previousMode,
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
      return { acknowledged: true, expired: false, peerMode: check.message.mode, via: 'peer' };
    }
    case 'finalize': {
      if (command.action === 'activate') await setMode(deps, command.path, 'enabled', input.execution, command.reason);
      return { mode: command.action === 'activate' ? 'enabled' : 'disabled' };
    }
    case 'rollback': {
      const apply = input.state.apply as { result?: { previousMode?: string } } | undefined;
      const previous = apply?.result?.previousMode;
      if (!PATH_MODES.includes(previous as PathMode)) return { restored: null };
      await setMode(
        deps,
        command.path,
        previous as PathMode,
        input.execution,
        `rollback: the peer did not acknowledge (${command.reason})`,
      );
      return { restored: previous };
    }
    default:
      throw new StepError(
        'InvalidInput',
        `step: got ${JSON.stringify(input.step)}; allowed: ${PATH_CONTROL_STEPS.join(', ')}`,
      );
  }
}
