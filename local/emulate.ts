import { recordCall } from './calls';

/**
 * Answers an SDK client's commands in process, for the services that have no local
 * implementation (EventBridge, SNS, Step Functions, CloudWatch, Lambda). The answer is given
 * at the start of the middleware stack, so nothing is serialized, signed or sent: no
 * credentials are needed and nothing can reach AWS. The handlers use the client unchanged.
 */
export type CommandHandler = (command: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { clientName?: string; commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown; response: unknown }>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

export function emulate<C>(client: C, handler: CommandHandler): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (_next, context) => async (args) => {
      recordCall(context.clientName ?? 'unknown', context.commandName ?? 'unknown', args.input);
      const output = await handler(context.commandName ?? 'unknown', args.input);
      return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} };
    },
    { step: 'initialize', name: 'mirrorbeatLocalEmulator', priority: 'high' },
  );
  return client;
}
