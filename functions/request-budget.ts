/**
 * The time a request has. Lambda stops a function at its timeout
 * (lib/constructs/api-function.ts; test/cdk/function-timeout.test.ts pins
 * the two together), and every request must answer, or fail with a 500, at
 * least RESPONSE_MARGIN_MS before that. The SDK clients' attempts and
 * timeouts are sized from it (adapters/aws/client-config.ts); whatever they
 * cannot bound (a secret or key set fetched at cold start) is cut off by
 * middy at the margin (http/handlers.ts). Waiting for a turn among the same
 * user's concurrent requests is bounded by the request's Deadline.
 */
export const FUNCTION_TIMEOUT_MS = 10_000;
export const RESPONSE_MARGIN_MS = 1_000;
export const REQUEST_BUDGET_MS = FUNCTION_TIMEOUT_MS - RESPONSE_MARGIN_MS;

/**
 * One DynamoDB call as slow as the SDK settings let it be
 * (test/unit/request-budget.test.ts holds it to that): the room a write
 * retried after a collision keeps for its last try, and the least a request
 * waiting for its turn keeps for its last attempt (backoff.ts, Turns), so
 * that it answers 5058 rather than start one that middy cuts off with a 500.
 */
export const LAST_CALL_MS = 2_000;

/** Two calls at their slowest: the room a send's collided transaction keeps for its last try and the call after it (the code issuer). */
export const LAST_ATTEMPT_MS = 2 * LAST_CALL_MS;

/**
 * When a request must have answered, in wall-clock time: made once at the
 * request's start (http/middleware/request-deadline.ts) and handed to
 * whatever waits for a turn. Not the business Clock, which tests move by
 * hand: this one bounds real waiting.
 */
export class Deadline {
  constructor(
    /** Epoch ms: middy answers 500 at this moment if the handler still runs. */
    readonly answerBy: number,
    private readonly wallClock: () => number = Date.now,
  ) {}

  /** A whole budget from now: for a use case or an operation called outside a request (scripts, tests, the simulation). */
  static fullBudgetFromNow(wallClock: () => number = Date.now): Deadline {
    return new Deadline(wallClock() + REQUEST_BUDGET_MS, wallClock);
  }

  /** From what Lambda says the function has left, less the margin: the moment middy cuts the handler off. */
  static fromRemainingTime(remainingMs: number, wallClock: () => number = Date.now): Deadline {
    return new Deadline(wallClock() + Math.min(remainingMs - RESPONSE_MARGIN_MS, REQUEST_BUDGET_MS), wallClock);
  }

  /** Ms until the answer is due; 0 or less once it is. */
  msLeft(): number {
    return this.answerBy - this.wallClock();
  }

  /** Ms in which something that may take up to `room` ms (LAST_ATTEMPT_MS, LAST_CALL_MS) may still start. */
  msLeftToStart(room: number): number {
    return this.msLeft() - room;
  }
}
