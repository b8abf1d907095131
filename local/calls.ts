import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerName } from '../lib/names';
import type { SiteId } from '../lambdas/core/wire';

/**
 * Which handler sends which SDK command, recorded while the local runtime runs the deployed
 * handler code. The IAM check (test/lib/iam.test.ts) asks a policy engine whether the
 * synthesized role of that handler may make each call.
 */
export interface SdkCall {
  readonly handler: HandlerName;
  readonly site: SiteId;
  /** The site's region: where a DynamoDB call lands (its own replica). */
  readonly region: string;
  /** The SDK client's name, such as DynamoDBClient. */
  readonly client: string;
  /** The low-level command, such as UpdateItemCommand (document-client commands arrive as these). */
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** When it was sent, on the runtime's virtual clock (ms since the run's start). */
  readonly atMs?: number;
}

export type CallSink = (call: SdkCall) => void;

interface Caller {
  readonly handler: HandlerName;
  readonly site: SiteId;
  readonly region: string;
  readonly sink: CallSink;
}

const caller = new AsyncLocalStorage<Caller>();

/** Runs `work` as `handler` at `site`: SDK calls made inside it, however deep, are recorded to `sink`. */
export function asHandler<T>(who: Caller | undefined, work: () => Promise<T>): Promise<T> {
  return who === undefined ? work() : caller.run(who, work);
}

/** Records a call for the handler running now, if a recording one is; `rename` maps local names to deployed ones. */
export function recordCall(client: string, command: string, input: Record<string, unknown>): void {
  const who = caller.getStore();
  if (who !== undefined) who.sink({ handler: who.handler, site: who.site, region: who.region, client, command, input });
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/**
 * Records every command a real client sends, before any other middleware (add it first). A
 * document client's commands arrive here as the low-level ones they become.
 */
export function recordingClient<C>(
  client: C,
  rename: (input: Record<string, unknown>) => Record<string, unknown> = (i) => i,
): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      recordCall(context.clientName ?? 'unknown', context.commandName ?? 'unknown', rename(args.input));
      return next(args);
    },
    { step: 'initialize', name: 'mirrorbeatCallRecorder', priority: 'high' },
  );
  return client;
}
