import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/**
 * Per-item reason codes of a cancelled transaction, in the order of its
 * items ('None', 'ConditionalCheckFailed', 'TransactionConflict', ...), or
 * undefined when the error is not a cancellation.
 */
export function cancellationReasons(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

export const failedCondition = (reasons: string[], index: number): boolean =>
  reasons[index] === 'ConditionalCheckFailed';

export const collided = (reasons: string[]): boolean => reasons.includes('TransactionConflict');

/** Only a failed condition or a collision are outcomes; any other reason is a fault. */
export const onlyExpectedReasons = (reasons: string[]): boolean =>
  reasons.every((code) => code === 'None' || code === 'ConditionalCheckFailed' || code === 'TransactionConflict');
