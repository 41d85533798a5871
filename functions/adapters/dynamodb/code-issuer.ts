import { randomInt, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { backOff } from '../../backoff';
import type { SendLimits } from '../../domain/send-limits';
import { Deadline, LAST_ATTEMPT_MS } from '../../request-budget';
import type { Breaker, CodeIssue, CodeIssuer, IssuedCode, IssueOutcome } from '../../ports';
import { utcWindow } from './keys';
import { useNonceItem } from './nonces';
import { CAPS, countIssuedItem, globalShardCount, uncountItem, type Cap } from './send-counters';
import { writeTogether, type TransactItem } from './transactions';
import { deleteCodeItem, storeCodeItem } from './verification-codes';

/**
 * Issuing codes in the codes table: the nonce, the code and the counters
 * of every cap go in one transaction, so a send's success path is one call.
 *
 * The global breaker is counted on one of its shares, picked at random
 * among those not known to be full; only when that share alone refuses is
 * another tried. A share that refused is remembered as full until the
 * minute ends, so once every share refused this container refuses at once
 * (a code withdrawn meanwhile frees room that only other containers see).
 */
export class DynamoCodeIssuer implements CodeIssuer {
  /** The shares of the global breaker that refused this UTC minute. */
  private fullShares = { minute: '', shares: new Set<number>() };

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** An index below `count`, at random. */
    private readonly pickShard: (count: number) => number = randomInt,
  ) {}

  async issue(issue: CodeIssue, limits: SendLimits, deadline = Deadline.fullBudgetFromNow()): Promise<IssueOutcome> {
    const nonce = useNonceItem(this.tableName, issue, randomUUID());
    // A breaker at 0 is switched off: no counter could refuse the first code of a window.
    const closed = closedBreakers(limits);
    if (closed.length > 0) return this.refuse(nonce, closed);

    const code = storeCodeItem(this.tableName, issue, limits.cooldownSeconds);
    const full = this.sharesFullIn(utcWindow(issue.issuedAt, 'minute'));
    const shares = globalShardCount(limits.maxPerMinute);
    for (let collisions = 0; ; ) {
      const globalShard = this.pickShareOutside(full, shares);
      if (globalShard === undefined) return this.refuse(nonce, ['global']);
      const counters = { globalShard };
      const outcome = await writeTogether(this.db, { nonce, code, ...this.perCap((cap) => countIssuedItem(this.tableName, cap, issue, limits, counters)) });
      if (outcome.written) return { kind: 'issued', issued: { issue, globalShard } };
      const { failed } = outcome;
      if (failed.has('nonce')) return { kind: 'replayed' };
      // Only this share is full: another may still have room.
      if (failed.size === 1 && failed.has('global')) {
        full.add(globalShard);
        continue;
      }
      // A limit refused it (or it kept colliding until the deadline): the `random` is used up all the same.
      if (failed.size > 0 || !(await backOff(deadline, ++collisions, LAST_ATTEMPT_MS))) return this.refuse(nonce, failed.has('perCountry') ? ['country'] : []);
    }
  }

  async withdraw({ issue, globalShard }: IssuedCode, deadline = Deadline.fullBudgetFromNow()): Promise<void> {
    const uncount = this.perCap((cap) => uncountItem(this.tableName, cap, issue, { globalShard }));
    for (let attempt = 1; ; attempt++) {
      const outcome = await writeTogether(this.db, { code: deleteCodeItem(this.tableName, issue), ...uncount });
      if (outcome.written) return;
      if (outcome.failed.has('code')) {
        // A newer code replaced ours: it stays, and only our counts are taken back.
        const counts = await writeTogether(this.db, uncount);
        if (counts.written) return;
        throw new Error(`withdraw: the send counters could not be taken back (${[...counts.failed].join(', ') || 'collided'})`);
      }
      if (outcome.failed.size > 0 || !(await backOff(deadline, attempt, LAST_ATTEMPT_MS))) {
        throw new Error(`withdraw: the code could not be withdrawn (${[...outcome.failed].join(', ') || 'collided'})`);
      }
    }
  }

  /** The shares known full in `minute`; a new minute starts with none. */
  private sharesFullIn(minute: string): Set<number> {
    if (this.fullShares.minute !== minute) this.fullShares = { minute, shares: new Set() };
    return this.fullShares.shares;
  }

  /** A share picked at random among those not known full, if any. */
  private pickShareOutside(full: ReadonlySet<number>, shares: number): number | undefined {
    const open = Array.from({ length: shares }, (_, share) => share).filter((share) => !full.has(share));
    return open.length === 0 ? undefined : open[this.pickShard(open.length)];
  }

  private perCap(item: (cap: Cap) => TransactItem): Record<Cap, TransactItem> {
    return Object.fromEntries(CAPS.map((cap) => [cap, item(cap)])) as Record<Cap, TransactItem>;
  }

  /** Refused by a limit: the `random` is used up all the same, unless it was used already. */
  private async refuse(nonce: TransactItem, trippedBreakers: Breaker[]): Promise<IssueOutcome> {
    return (await this.useNonceAlone(nonce)) ? { kind: 'rate-limited', trippedBreakers } : { kind: 'replayed' };
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

const closedBreakers = (limits: SendLimits): Breaker[] => [
  ...(limits.maxPerCountryPerMinute === 0 ? (['country'] as const) : []),
  ...(limits.maxPerMinute === 0 ? (['global'] as const) : []),
];
