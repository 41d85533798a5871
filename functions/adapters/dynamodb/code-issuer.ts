import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { backOff, MAX_CONFLICT_ATTEMPTS } from '../../backoff';
import type { SendLimits } from '../../config';
import type { CodeIssue, CodeIssuer, IssueOutcome } from '../../ports';
import { useNonceItem } from './nonces';
import { CAPS, countIssuedItem, uncountItem, type Cap } from './send-counters';
import { writeTogether, type TransactItem } from './transactions';
import { deleteCodeItem, storeCodeItem } from './verification-codes';

/**
 * Issuing codes in the codes table: the nonce, the code and the counters
 * of every cap go in one transaction, so a send's success path is one call.
 */
export class DynamoCodeIssuer implements CodeIssuer {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async issue(issue: CodeIssue, limits: SendLimits): Promise<IssueOutcome> {
    const nonce = useNonceItem(this.tableName, issue, randomUUID());
    const items = {
      nonce,
      code: storeCodeItem(this.tableName, issue, limits.cooldownSeconds),
      ...this.perCap((cap) => countIssuedItem(this.tableName, cap, issue, limits)),
    };
    for (let attempt = 1; ; attempt++) {
      const outcome = await writeTogether(this.db, items);
      if (outcome.written) return 'issued';
      if (outcome.failed.has('nonce')) return 'replayed';
      // A limit refused it (or it kept colliding): the `random` is used up all the same.
      if (outcome.failed.size > 0 || attempt >= MAX_CONFLICT_ATTEMPTS) return (await this.useNonceAlone(nonce)) ? 'rate-limited' : 'replayed';
      await backOff(attempt);
    }
  }

  async withdraw(issue: CodeIssue): Promise<void> {
    const uncount = this.perCap((cap) => uncountItem(this.tableName, cap, issue));
    for (let attempt = 1; ; attempt++) {
      const outcome = await writeTogether(this.db, { code: deleteCodeItem(this.tableName, issue), ...uncount });
      if (outcome.written) return;
      if (outcome.failed.has('code')) {
        // A newer code replaced ours: it stays, and only our counts are taken back.
        const counts = await writeTogether(this.db, uncount);
        if (counts.written) return;
        throw new Error(`withdraw: the send counters could not be taken back (${[...counts.failed].join(', ') || 'collided'})`);
      }
      if (outcome.failed.size > 0 || attempt >= MAX_CONFLICT_ATTEMPTS) {
        throw new Error(`withdraw: the code could not be withdrawn (${[...outcome.failed].join(', ') || 'collided'})`);
      }
      await backOff(attempt);
    }
  }

  private perCap(item: (cap: Cap) => TransactItem): Record<Cap, TransactItem> {
    return Object.fromEntries(CAPS.map((cap) => [cap, item(cap)])) as Record<Cap, TransactItem>;
  }

  /** True when the `random` was still unused and is now used; false when it was used already. */
  private async useNonceAlone(nonce: TransactItem): Promise<boolean> {
    try {
      await this.db.send(new PutCommand(nonce.Put as PutCommandInput));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
