import type { AwsAnswer, AwsCall } from '../../functions/adapters/aws/aws-http-client';
import type { DocumentClient } from '../../functions/adapters/dynamodb/client';

const dynamoError = (status: number, code: string, message: string): AwsAnswer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }),
});

/** The transient faults a call may meet: answers as DynamoDB gives them, or errors as the socket gives them. */
export const faultKinds = {
  throttling: (): AwsAnswer => dynamoError(400, 'ProvisionedThroughputExceededException', 'Rate of requests exceeds the allowed throughput'),
  serverError: (): AwsAnswer => dynamoError(500, 'InternalServerError', 'Internal server error'),
  timeout: (): Error => Object.assign(new Error('No answer within 1500 ms'), { name: 'TimeoutError' }),
  networkReset: (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
} as const;

export type FaultKind = keyof typeof faultKinds;

export interface FaultPlan {
  /** Which DynamoDB call of the request fails, counting from 1. */
  readonly call: number;
  readonly kind: FaultKind;
  /** 'before': the request never reaches DynamoDB. 'after': it is applied, and the answer is lost. */
  readonly mode: 'before' | 'after';
  /** How many attempts fail: 1 is a blip the client retries through; Infinity outlasts every retry. */
  readonly attempts: number;
}

/**
 * Installs a fault on the handlers' own DynamoDB client, around each attempt
 * (inside its retry loop), so every attempt meets it. Returns a function that
 * removes it; `calls()` tells how many calls the request made.
 */
export function injectDynamoFault(db: DocumentClient, plan: FaultPlan) {
  const numbers = new Map<AwsCall, number>();
  let failed = 0;
  const remove = db.aws.intercept(async (call, next) => {
    const number = numbers.get(call) ?? numbers.set(call, numbers.size + 1).size;
    if (number !== plan.call || failed >= plan.attempts) return next(call);
    failed++;
    if (plan.mode === 'after') await next(call);
    const fault = faultKinds[plan.kind]();
    if (fault instanceof Error) throw fault;
    return fault;
  });
  return { calls: () => numbers.size, failedAttempts: () => failed, remove };
}

/** Records the operation of each DynamoDB call the client makes (once per call, whatever the retries). */
export function recordCalls(db: DocumentClient) {
  const seen = new WeakSet<AwsCall>();
  const operations: string[] = [];
  const stop = db.aws.intercept((call, next) => {
    if (!seen.has(call)) {
      seen.add(call);
      operations.push(call.operation);
    }
    return next(call);
  });
  return { operations, stop };
}
