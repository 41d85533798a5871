import { isAwsError } from '../aws/aws-http-client';

/**
 * Per-item reason codes of a cancelled transaction, in the order of its
 * items ('None', 'ConditionalCheckFailed', 'TransactionConflict', ...), or
 * undefined when the error is not a cancellation.
 */
export function cancellationReasons(error: unknown): string[] | undefined {
  if (!isAwsError(error, 'TransactionCanceledException')) return undefined;
  const reasons = error.details.CancellationReasons;
  return Array.isArray(reasons) ? reasons.map((reason: { Code?: string } | null) => reason?.Code ?? 'None') : [];
}

export const failedCondition = (reasons: string[], index: number): boolean =>
  reasons[index] === 'ConditionalCheckFailed';

export const collided = (reasons: string[]): boolean => reasons.includes('TransactionConflict');

/** Only a failed condition or a collision are outcomes; any other reason is a fault. */
export const onlyExpectedReasons = (reasons: string[]): boolean =>
  reasons.every((code) => code === 'None' || code === 'ConditionalCheckFailed' || code === 'TransactionConflict');
