import { backOff, MAX_CONFLICT_ATTEMPTS } from '../../backoff';

const isError = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);

/**
 * One conditional write: false when its condition failed. A collision with
 * a write from another Region (ReplicatedWriteConflictException, on a
 * multi-Region table) or with a transaction is tried again with back-off,
 * beyond the SDK's own attempts: a write whose condition names what it
 * expects recognises, on a retry, that it already landed.
 */
export async function conditionalWrite(send: () => Promise<unknown>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return true;
    } catch (error) {
      if (isError(error, 'ConditionalCheckFailedException')) return false;
      if (!isError(error, 'ReplicatedWriteConflictException', 'TransactionConflictException') || attempt >= MAX_CONFLICT_ATTEMPTS) throw error;
      await backOff(attempt);
    }
  }
}
