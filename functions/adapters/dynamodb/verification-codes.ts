import type { PutCommandInput, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/aws-http-client';
import type { DocumentClient } from './client';
import { backOff, MAX_CONFLICT_ATTEMPTS } from '../../backoff';
import type { SendLimits } from '../../config';
import type { PhoneNumber } from '../../domain/phone';
import type { CodeType, StoredCode } from '../../domain/verification-code';
import type { CodeIssue, IssueOutcome, VerificationCodes } from '../../ports';
import { cancellationReasons, collided, failedCondition, onlyExpectedReasons } from './cancellation';
import { keys, ttlSeconds, windowEnd } from './keys';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const COLLISION_RETRIES = MAX_CONFLICT_ATTEMPTS - 1;

interface Cap {
  readonly pk: string;
  readonly max: number;
  readonly endsAt: number;
}

/** Verification codes, used nonces and send counters in the codes table. */
export class DynamoVerificationCodes implements VerificationCodes {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async issue(issue: CodeIssue, limits: SendLimits): Promise<IssueOutcome> {
    // The nonce rides in the same transaction as the code and the counters, so
    // the success path is one call; when a limit refuses, it is used up alone.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transactWrite({ TransactItems: [this.useNonce(issue), ...this.issueItems(issue, limits)] });
        return 'issued';
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons || !onlyExpectedReasons(reasons)) throw error;
        if (failedCondition(reasons, 0)) return 'replayed';
        if (reasons.some((code) => code === 'ConditionalCheckFailed') || attempt > COLLISION_RETRIES) {
          return (await this.useNonceAlone(issue)) ? 'rate-limited' : 'replayed';
        }
        if (!collided(reasons)) throw error;
        await backOff(attempt);
      }
    }
  }

  async withdraw(issue: CodeIssue): Promise<void> {
    const deleteCode: TransactItem = {
      Delete: {
        TableName: this.tableName,
        Key: { pk: keys.code(issue.codeType, issue.phone.e164) },
        // A newer code that replaced ours (only possible without a cooldown) stays.
        ConditionExpression: 'codeHash = :hash',
        ExpressionAttributeValues: { ':hash': issue.codeHash },
      },
    };
    const uncount = counterKeys(issue).map(
      (pk): TransactItem => ({
        Update: {
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1 },
        },
      }),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transactWrite({ TransactItems: [deleteCode, ...uncount] });
        return;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons || !onlyExpectedReasons(reasons) || attempt > COLLISION_RETRIES) throw error;
        if (failedCondition(reasons, 0)) {
          await this.db.transactWrite({ TransactItems: uncount });
          return;
        }
        await backOff(attempt);
      }
    }
  }

  async find(phone: PhoneNumber, codeType: CodeType): Promise<StoredCode | undefined> {
    const { Item } = await this.db.get({ TableName: this.tableName, Key: { pk: keys.code(codeType, phone.e164) }, ConsistentRead: true });
    return Item && toStoredCode(Item);
  }

  async recordWrongTry(phone: PhoneNumber, codeType: CodeType, storedHash: string): Promise<void> {
    try {
      await this.db.update({
        TableName: this.tableName,
        Key: { pk: keys.code(codeType, phone.e164) },
        UpdateExpression: 'ADD wrongTries :one',
        // Only the code that was judged: a newer code starts with a clean count.
        ConditionExpression: 'codeHash = :hash',
        ExpressionAttributeValues: { ':one': 1, ':hash': storedHash },
      });
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }

  private useNonce(issue: CodeIssue): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          pk: keys.nonce(issue.userDomain, issue.random),
          expiresAt: issue.nonceExpiresAt,
          ttl: ttlSeconds(issue.nonceExpiresAt),
        },
        // TTL deletes lazily: an item past its time no longer counts as used.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': issue.issuedAt },
      },
    };
  }

  private async useNonceAlone(issue: CodeIssue): Promise<boolean> {
    const item = this.useNonce(issue).Put;
    try {
      await this.db.put(item as PutCommandInput);
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  private issueItems(issue: CodeIssue, limits: SendLimits): TransactItem[] {
    const { issuedAt } = issue;
    const cooldownEnds = issuedAt + limits.cooldownSeconds * 1000;
    const storeCode: TransactItem = {
      Put: {
        TableName: this.tableName,
        Item: {
          pk: keys.code(issue.codeType, issue.phone.e164),
          codeHash: issue.codeHash,
          issuedAt,
          expiresAt: issue.expiresAt,
          wrongTries: 0,
          // Kept while it can be used or while it holds the cooldown.
          ttl: ttlSeconds(Math.max(issue.expiresAt, cooldownEnds)),
        },
        // The cooldown runs from the last code issued to this (phone, codeType).
        ConditionExpression: 'attribute_not_exists(pk) OR issuedAt <= :cooldownStart',
        ExpressionAttributeValues: { ':cooldownStart': issuedAt - limits.cooldownSeconds * 1000 },
      },
    };
    const [perPhone, perIp, global] = counterKeys(issue);
    const caps: Cap[] = [
      { pk: perPhone, max: limits.maxPerPhonePerDay, endsAt: windowEnd(issuedAt, 'day') },
      { pk: perIp, max: limits.maxPerIpPerHour, endsAt: windowEnd(issuedAt, 'hour') },
      { pk: global, max: limits.maxPerMinute, endsAt: windowEnd(issuedAt, 'minute') },
    ];
    return [storeCode, ...caps.map((cap) => this.countIssued(cap))];
  }

  /** One more code in a fixed window, refused once the window holds `max`. */
  private countIssued({ pk, max, endsAt }: Cap): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk },
        UpdateExpression: 'SET #ttl = :ttl ADD #count :one',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':max': max, ':ttl': ttlSeconds(endsAt) + 3600 },
      },
    };
  }
}

/** A code item as the use cases see it; `codeHash` is gone once the code was used. */
export const toStoredCode = (item: Record<string, unknown>): StoredCode => ({
  ...(typeof item.codeHash === 'string' ? { codeHash: item.codeHash } : {}),
  issuedAt: Number(item.issuedAt),
  expiresAt: Number(item.expiresAt),
  wrongTries: Number(item.wrongTries ?? 0),
});

/** The counters a code counts against: one item per fixed UTC window. */
const counterKeys = ({ phone, sourceIp, issuedAt }: CodeIssue): [string, string, string] => [
  keys.phoneDayCount(phone.e164, issuedAt),
  keys.ipHourCount(sourceIp, issuedAt),
  keys.globalMinuteCount(issuedAt),
];
