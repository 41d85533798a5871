import type { SendLimits } from '../../domain/send-limits';
import type { CodeIssue } from '../../ports';
import { keys, ttlSeconds, windowEnd, type Window } from './keys';
import type { TransactItem } from './transactions';

/** The caps a code counts against, each a counter in a fixed UTC window. */
export type Cap = 'perPhone' | 'perIp' | 'perCountry' | 'global';

export const CAPS: readonly Cap[] = ['perPhone', 'perIp', 'perCountry', 'global'];

const WINDOW: Readonly<Record<Cap, Window>> = { perPhone: 'day', perIp: 'hour', perCountry: 'minute', global: 'minute' };

/**
 * The global breaker is split into this many counters a minute, each
 * holding its share of the cap: one item taking every send in the world
 * would make concurrent sends collide (TransactionConflict) and concentrate
 * a flood's writes on one partition. The shares add up to the cap exactly.
 */
export const GLOBAL_SHARDS = 10;

/** Which counters a code is counted on: every cap's own, and one share of the global breaker. */
export interface Counters {
  readonly globalShard: number;
}

/** How many shares the global breaker of `max` codes has: never more shares than codes, and at least one. */
export const globalShardCount = (max: number): number => Math.max(1, Math.min(GLOBAL_SHARDS, max));

/** The share of `max` that `shard` holds; the first `max % count` shares hold one more. */
export const globalShardMax = (max: number, shard: number): number => {
  const count = globalShardCount(max);
  return Math.floor(max / count) + (shard < max % count ? 1 : 0);
};

const counterKey = (cap: Cap, { phone, sourceIp, issuedAt }: CodeIssue, { globalShard }: Counters): string => {
  switch (cap) {
    case 'perPhone':
      return keys.phoneDayCount(phone.e164, issuedAt);
    case 'perIp':
      return keys.ipHourCount(sourceIp, issuedAt);
    case 'perCountry':
      return keys.countryMinuteCount(phone.country, issuedAt);
    case 'global':
      return keys.globalMinuteCount(issuedAt, globalShard);
  }
};

const maxOf = (cap: Cap, limits: SendLimits, { globalShard }: Counters): number => {
  switch (cap) {
    case 'perPhone':
      return limits.maxPerPhonePerDay;
    case 'perIp':
      return limits.maxPerIpPerHour;
    case 'perCountry':
      return limits.maxPerCountryPerMinute;
    case 'global':
      return globalShardMax(limits.maxPerMinute, globalShard);
  }
};

/** One more code in the cap's window, refused once the window holds its maximum. */
export function countIssuedItem(tableName: string, cap: Cap, issue: CodeIssue, limits: SendLimits, counters: Counters): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: counterKey(cap, issue, counters) },
      UpdateExpression: 'SET #ttl = :ttl ADD #count :one',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
      ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
      // Kept an hour past its window, then TTL removes it.
      ExpressionAttributeValues: { ':one': 1, ':max': maxOf(cap, limits, counters), ':ttl': ttlSeconds(windowEnd(issue.issuedAt, WINDOW[cap])) + 3600 },
    },
  };
}

/** Takes the code of `issue` back out of the cap's window. */
export function uncountItem(tableName: string, cap: Cap, issue: CodeIssue, counters: Counters): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: counterKey(cap, issue, counters) },
      UpdateExpression: 'ADD #count :minusOne',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':minusOne': -1 },
    },
  };
}
