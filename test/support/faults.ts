import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The transient faults a call may meet, shaped as the SDK's own errors, so its retry strategy classifies them as it would the real ones. */
export const faultKinds = {
  throttling: () =>
    Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    }),
  serverError: () =>
    Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
  timeout: () => Object.assign(new Error('Connection timed out after 1500 ms'), { name: 'TimeoutError' }),
  networkReset: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  // A single-item write meeting a transaction on the same item: the SDK does not retry it.
  transactionConflict: () =>
    new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: { httpStatusCode: 400 } }),
  // A transaction cancelled because another one was under way on one of its items: nothing written, no condition failed.
  transactionCollision: () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }],
    }),
} as const;

export type FaultKind = keyof typeof faultKinds;

export interface FaultPlan {
  /** Which DynamoDB call of the request fails, counting from 1. */
  readonly call: number;
  /** The last call that fails, when several in a row do. Default: `call`. */
  readonly untilCall?: number;
  readonly kind: FaultKind;
  /** 'before': the request never reaches DynamoDB. 'after': it is applied, and the answer is lost. */
  readonly mode: 'before' | 'after';
  /** Only calls of this operation (`TransactWriteItems`) fail; calls are counted all the same. */
  readonly operation?: string;
  /** How many attempts fail: 1 is a blip the SDK retries through; Infinity outlasts every retry. */
  readonly attempts: number;
}

/** The DynamoDB operation of a command, as the SDK names it in the middleware context (`BatchGetItemCommand` -> `BatchGetItem`). */
const operationOf = (context: { commandName?: string }): string => String(context.commandName).replace(/Command$/, '');

/**
 * Installs a fault on the handlers' own DynamoDB client, below the SDK's
 * retry middleware (finalizeRequest, low priority), so every attempt meets
 * it. `calls()` tells how many calls were made and `failedAttempts()` how
 * many attempts met the fault; `remove()` takes it out.
 */
export function injectDynamoFault(db: DynamoDBDocumentClient, plan: FaultPlan) {
  const names = { counter: `faultCounter-${Math.random()}`, injector: `faultInjector-${Math.random()}` };
  const callNumber = Symbol('call');
  let calls = 0;
  let failed = 0;
  db.middlewareStack.add(
    (next, context) => async (args) => {
      (context as Record<symbol, number>)[callNumber] = ++calls;
      return next(args);
    },
    { step: 'initialize', name: names.counter },
  );
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const call = (context as Record<symbol, number>)[callNumber]!;
      const hit =
        call >= plan.call && call <= (plan.untilCall ?? plan.call) && failed < plan.attempts && (plan.operation === undefined || operationOf(context) === plan.operation);
      if (!hit) return next(args);
      failed++;
      // The attempt reaches DynamoDB, and whatever it answered is lost.
      if (plan.mode === 'after') await next(args).catch(() => undefined);
      throw faultKinds[plan.kind]();
    },
    { step: 'finalizeRequest', priority: 'low', name: names.injector },
  );
  return {
    calls: () => calls,
    failedAttempts: () => failed,
    remove: () => {
      db.middlewareStack.remove(names.counter);
      db.middlewareStack.remove(names.injector);
    },
  };
}

/** Records the operation of each DynamoDB call the client makes (once per call, whatever the retries). */
export function recordCalls(db: DynamoDBDocumentClient) {
  const name = `recordCalls-${Math.random()}`;
  const operations: string[] = [];
  db.middlewareStack.add(
    (next, context) => async (args) => {
      operations.push(operationOf(context));
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { operations, stop: () => db.middlewareStack.remove(name) };
}
