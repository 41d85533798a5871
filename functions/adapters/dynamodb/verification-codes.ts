import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import type { CodeIssue, CodeProof, VerificationCodes } from '../../ports';
import { backOff } from '../../backoff';
import { Deadline, LAST_CALL_MS } from '../../request-budget';
import { keys, ttlSeconds } from './keys';
import type { TransactItem } from './transactions';

/** The latest code per (phone, purpose), in the codes table. */
export class DynamoVerificationCodes implements VerificationCodes {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async find(phone: PhoneNumber, purpose: CodePurpose): Promise<StoredCode | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: keys.code(purpose, phone.e164) }, ConsistentRead: true }),
    );
    return Item && toStoredCode(Item);
  }

  /**
   * One more wrong try, named by an id of its own: a retry of this very
   * write (its answer lost) finds the id already there and counts nothing.
   * A collision with a transaction on the same code (a send, a link) is
   * tried again within the deadline, since the SDK does not: a guess is
   * answered only once it is counted, or it fails as a 500 that tells
   * nothing of the guess.
   */
  async recordWrongTry(phone: PhoneNumber, purpose: CodePurpose, storedHash: string, deadline = Deadline.fullBudgetFromNow()): Promise<void> {
    const tryId = randomUUID();
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: keys.code(purpose, phone.e164) },
      UpdateExpression: 'ADD wrongTries :one, wrongTryIds :tryIds',
      // Only the code that was judged (a newer code starts with a clean count), and only once.
      ConditionExpression: 'codeHash = :hash AND NOT contains(wrongTryIds, :tryId)',
      ExpressionAttributeValues: { ':one': 1, ':tryIds': new Set([tryId]), ':tryId': tryId, ':hash': storedHash },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(update);
        return;
      } catch (error) {
        // Either the code changed meanwhile or this try is counted already: nothing left to do.
        if (error instanceof ConditionalCheckFailedException) return;
        if (!(error instanceof TransactionConflictException) || !(await backOff(deadline, attempt, LAST_CALL_MS))) throw error;
      }
    }
  }
}

/** The code as the latest for its (phone, purpose), unless the cooldown since the last one still runs. */
export function storeCodeItem(tableName: string, issue: CodeIssue, cooldownSeconds: number): TransactItem {
  const cooldownEnds = issue.issuedAt + cooldownSeconds * 1000;
  return {
    Put: {
      TableName: tableName,
      Item: {
        pk: keys.code(issue.purpose, issue.phone.e164),
        codeHash: issue.codeHash,
        issuedAt: issue.issuedAt,
        expiresAt: issue.expiresAt,
        wrongTries: 0,
        // Kept while it can be used or while it holds the cooldown.
        ttl: ttlSeconds(Math.max(issue.expiresAt, cooldownEnds)),
      },
      // The cooldown runs from the last code issued to this (phone, purpose).
      ConditionExpression: 'attribute_not_exists(pk) OR issuedAt <= :cooldownStart',
      ExpressionAttributeValues: { ':cooldownStart': issue.issuedAt - cooldownSeconds * 1000 },
    },
  };
}

/** Removes the code of `issue`, unless a newer one replaced it (possible only without a cooldown). */
export function deleteCodeItem(tableName: string, issue: CodeIssue): TransactItem {
  return {
    Delete: {
      TableName: tableName,
      Key: { pk: keys.code(issue.purpose, issue.phone.e164) },
      ConditionExpression: 'codeHash = :hash',
      ExpressionAttributeValues: { ':hash': issue.codeHash },
    },
  };
}

/** Uses up the code, provided it is still the one that was judged, fresh and not void. */
export function consumeCodeItem(tableName: string, phone: PhoneNumber, proof: CodeProof, now: number): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: keys.code(proof.purpose, phone.e164) },
      UpdateExpression: 'SET consumedAt = :now REMOVE codeHash',
      ConditionExpression: 'codeHash = :hash AND expiresAt > :now AND wrongTries < :maxWrongTries',
      ExpressionAttributeValues: { ':hash': proof.codeHash, ':now': now, ':maxWrongTries': proof.maxWrongTries },
    },
  };
}

/** A code item as the use cases see it; `codeHash` is gone once the code was used. */
export const toStoredCode = (item: Record<string, unknown>): StoredCode => ({
  ...(typeof item.codeHash === 'string' ? { codeHash: item.codeHash } : {}),
  issuedAt: Number(item.issuedAt),
  expiresAt: Number(item.expiresAt),
  wrongTries: Number(item.wrongTries ?? 0),
});
