import type { Heartbeat } from '../core/message';
import type { StepInput } from '../core/steps';
import type { PathState } from '../core/verdict';
import { PATHS, type PathId } from '../core/wire';

/**
 * The peer's beats recorded since the heartbeat module decided (serials above those its evidence
 * names, on the paths in use), or undefined when the start named none (a person's failover, an
 * older module). Clock-free: a wall clock that stepped in this site cannot make a lost peer look alive.
 */
export function sinceDecision(
  input: StepInput,
  observed: Readonly<Partial<Record<PathId, Heartbeat>>>,
  states: Readonly<Record<PathId, PathState>>,
): Heartbeat[] | undefined {
  const evidence = input.state.evidence as { lastSerials?: Partial<Record<PathId, unknown>> } | undefined;
  const known = evidence?.lastSerials;
  if (input.state.requestedBy !== 'heartbeat-module' || known === null || typeof known !== 'object') return undefined;
  return PATHS.flatMap((path) => {
    const beat = observed[path];
    const seen = known[path];
    if (beat === undefined || states[path] === 'disabled') return [];
    return typeof seen === 'number' && beat.serial <= seen ? [] : [beat];
  });
}
