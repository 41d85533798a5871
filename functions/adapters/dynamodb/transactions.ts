import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * What a transaction did: written, or cancelled with the items whose
 * condition failed, by name. A cancellation with no failed condition is a
 * collision with another transaction: trying again may succeed.
 */
export type TransactionOutcome<Name extends string> = { readonly written: true } | { readonly written: false; readonly failed: ReadonlySet<Name> };

/** Only a failed condition or a collision with another transaction are outcomes; any other reason is a fault. */
const EXPECTED_REASONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

/**
 * Writes the named items all together or not at all. Each call carries its
 * own request token, so an SDK retry after a lost answer is recognised by
 * DynamoDB and applied once. A cancellation comes back as the names of the
 * items whose condition failed, or none when it only collided with another
 * transaction; any other error, a cancellation for any other reason
 * included, is thrown.
 */
export async function writeTogether<Name extends string>(
  db: DynamoDBDocumentClient,
  items: Readonly<Record<Name, TransactItem | undefined>>,
): Promise<TransactionOutcome<Name>> {
  const named = (Object.entries(items) as [Name, TransactItem | undefined][]).filter(
    (entry): entry is [Name, TransactItem] => entry[1] !== undefined,
  );
  try {
    await db.send(new TransactWriteCommand({ TransactItems: named.map(([, item]) => item), ClientRequestToken: randomUUID() }));
    return { written: true };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
    if (!reasons.every((code) => EXPECTED_REASONS.has(code))) throw error;
    const failed = new Set(named.filter((_, index) => reasons[index] === 'ConditionalCheckFailed').map(([name]) => name));
    // Neither a failed condition nor a collision: nothing to decide on, so a fault.
    if (failed.size === 0 && !reasons.includes('TransactionConflict')) throw error;
    return { written: false, failed };
  }
}
