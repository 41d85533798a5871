import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The transient faults the SDK may meet, shaped as the SDK classifies them. */
export const faultKinds = {
  throttling: () => Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  }),
  serverError: () => Object.assign(new Error('Internal server error'), {
    name: 'InternalServerError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  }),
  timeout: () => Object.assign(new Error('Connection timed out after 1500 ms'), { name: 'TimeoutError' }),
  networkReset: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
} as const;

export type FaultKind = keyof typeof faultKinds;

export interface FaultPlan {
  /** Which DynamoDB call of the request fails, counting from 1. */
  readonly call: number;
  readonly kind: FaultKind;
  /** 'before': the request never reaches DynamoDB. 'after': it is applied, and the answer is lost. */
  readonly mode: 'before' | 'after';
  /** How many attempts fail: 1 is a blip the SDK retries through; Infinity outlasts every retry. */
  readonly attempts: number;
}

/**
 * Installs a fault on the handlers' own DynamoDB client, below the SDK's
 * retry middleware, so every attempt meets it. Returns a function that
 * removes it; `calls()` tells how many calls the request made.
 */
export function injectDynamoFault(db: DynamoDBDocumentClient, plan: FaultPlan) {
  let commands = 0;
  let failed = 0;
  const tag = Symbol('call');
  db.middlewareStack.add(
    (next, context) => async (args) => {
      (context as Record<symbol, number>)[tag] = ++commands;
      return next(args);
    },
    { step: 'initialize', name: 'faultCounter' },
  );
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const hit = (context as Record<symbol, number>)[tag] === plan.call && failed < plan.attempts;
      if (!hit) return next(args);
      failed++;
      if (plan.mode === 'after') await next(args);
      throw faultKinds[plan.kind]();
    },
    { step: 'finalizeRequest', name: 'faultInjector', priority: 'low' },
  );
  return {
    calls: () => commands,
    failedAttempts: () => failed,
    remove: () => {
      db.middlewareStack.remove('faultCounter');
      db.middlewareStack.remove('faultInjector');
    },
  };
}
