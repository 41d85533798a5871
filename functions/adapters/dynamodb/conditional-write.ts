import { backOff } from '../../backoff';
import { Deadline, LAST_CALL_MS } from '../../request-budget';

const isError = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);

/**
 * One conditional write: false when its condition failed. A collision with
 * a write from another Region (ReplicatedWriteConflictException, on a
 * multi-Region table) or with a transaction is tried again with back-off,
 * beyond the SDK's own attempts, while the deadline (the request's, or a
 * whole budget from the first try) lets another attempt start: a write
 * whose condition names what it expects recognises, on a retry, that it
 * already landed.
 */
export async function conditionalWrite(send: () => Promise<unknown>, deadline: Deadline = Deadline.fullBudgetFromNow()): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return true;
    } catch (error) {
      if (isError(error, 'ConditionalCheckFailedException')) return false;
      if (!isError(error, 'ReplicatedWriteConflictException', 'TransactionConflictException') || !(await backOff(deadline, attempt, LAST_CALL_MS))) throw error;
    }
  }
}
