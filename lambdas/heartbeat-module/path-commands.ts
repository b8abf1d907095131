// The path registry as the heartbeat module sees it: this site's modes, and the peer's request commands acted on.
import { deadlineSignal } from '../shared/deadlines';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  checkControl,
  describeChanges,
  type PathCommandMessage,
  pathCommandSchema,
  signAck,
  unprotectedRefusal,
} from '../core/command';
import type { SiteCore } from '../core/site';
import { DetailType, EVENT_SOURCE, PATHS, type PathId, type PathMode } from '../core/wire';
import type { ReceivedCommand } from '../shared/path-store';
import { type ModuleDeps, pathTimeoutMs } from './deps';

export class PathCommands {
  /**
   * @param recorded the path states this site last recorded: a path is "working" for the
   *   last-working-path rule when it is enabled and its state is not failed
   */
  constructor(
    private readonly deps: ModuleDeps,
    private readonly core: SiteCore,
    private readonly recorded: Readonly<Partial<Record<PathId, string>>>,
  ) {}

  /** Reads this site's modes from the registry (one query for both); a read that fails keeps the last known modes. */
  async refreshModes(nowMs: number, timeoutMs: number): Promise<void> {
    let modes: Record<PathId, PathMode>;
    try {
      modes = await this.deps.store.paths.readPathModes(this.deps.settings.site, deadlineSignal(timeoutMs));
    } catch {
      // Keep the last known modes: a registry read failure is not an operator's command.
      return;
    }
    for (const path of PATHS) this.core.setMode(path, modes[path], nowMs);
  }

  /**
   * The peer's request commands (path control), from whichever path carried them: each is
   * checked, acted on once (the acknowledgement's conditional write is the guard), answered
   * on both paths, and forgotten. A command that would leave this site with no enabled path
   * is refused unless forced.
   */
  async handle(nowMs: number, timeoutMs: number): Promise<void> {
    const { settings, store } = this.deps;
    let received: ReceivedCommand[];
    let keys: Buffer[];
    try {
      received = await store.paths.receivedCommands(settings.site, deadlineSignal(timeoutMs));
      if (received.length === 0) return;
      keys = await this.deps.keys.all();
    } catch (error) {
      this.deps.log('warn', 'request commands unreadable', { error: String(error) });
      return;
    }
    for (const item of received) {
      try {
        const check = checkControl(pathCommandSchema, item.message, {
          cluster: settings.cluster,
          me: settings.site,
          keys,
        });
        if (!check.ok) {
          await store.countInvalid(item.via, check.reason);
          this.deps.log('warn', 'invalid request command ignored', {
            via: item.via,
            reason: check.reason,
            detail: check.detail,
          });
        } else if (check.message.expiresAtMs >= nowMs) {
          await this.actOn(check.message, nowMs);
        }
        await store.paths.deleteCommand(settings.site, item.id);
      } catch (error) {
        // Left in place: the next tick tries again, and the acknowledgement's guard keeps it to one effect.
        this.deps.log('warn', 'request command not handled', { id: item.id, error: String(error) });
      }
    }
  }

  private async actOn(command: PathCommandMessage, nowMs: number): Promise<void> {
    const { settings, store } = this.deps;
    // All of the command or none of it: one acknowledgement answers for every path it names.
    const refusal = command.force
      ? undefined
      : unprotectedRefusal(
          command.changes,
          (p) => this.core.modes[p],
          (p) => this.recorded[p],
        );
    const refuse = refusal !== undefined;
    const modes: Partial<Record<PathId, PathMode>> = {};
    for (const { path, action } of command.changes)
      modes[path] = refuse ? this.core.modes[path] : action === 'activate' ? 'enabled' : 'disabled';
    const detail = refuse
      ? `at ${settings.site}, ${refusal}: send "force": true to do it anyway`
      : `${command.changes.map((c) => `${c.path} ${modes[c.path]}`).join(', ')} at ${settings.site}`;
    const ack = signAck(
      {
        id: command.id,
        cluster: settings.cluster,
        from: settings.site,
        to: command.from,
        accepted: !refuse,
        modes,
        detail,
        atMs: Math.round(nowMs),
      },
      await this.deps.keys.current(),
    );
    for (const { path } of refuse ? [] : command.changes) {
      const mode = modes[path] as PathMode;
      if (this.core.modes[path] === mode) continue;
      await store.paths.setPathMode(settings.site, path, mode, `${command.from}:${command.id}`, command.reason, nowMs);
      this.core.setMode(path, mode, nowMs);
    }
    // The storage path's answer is the acknowledgement item; the network path's, a PathAck event.
    if (await store.paths.putAck(ack)) {
      await this.deps.peerEvents
        .send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: this.deps.peerBusArn,
                Source: EVENT_SOURCE,
                DetailType: DetailType.pathAck,
                Detail: JSON.stringify(ack),
              },
            ],
          }),
          { abortSignal: deadlineSignal(pathTimeoutMs(settings.tuning.intervalSeconds)) },
        )
        .catch((error: unknown) =>
          this.deps.log('warn', 'acknowledgement not sent on the network path', {
            id: command.id,
            error: String(error),
          }),
        );
      this.deps.log('info', `request command ${refuse ? 'refused' : 'applied'}`, {
        id: command.id,
        changes: describeChanges(command.changes),
        modes,
      });
    }
  }
}
