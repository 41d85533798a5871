import type { SendLimits } from '../../config';
import type { CodeIssue } from '../../ports';
import { keys, ttlSeconds, windowEnd, type Window } from './keys';
import type { TransactItem } from './transactions';

/** The caps a code counts against, each a counter in a fixed UTC window. */
export type Cap = 'perPhone' | 'perIp' | 'global';

const WINDOW: Readonly<Record<Cap, Window>> = { perPhone: 'day', perIp: 'hour', global: 'minute' };

const counterKey = (cap: Cap, { phone, sourceIp, issuedAt }: CodeIssue): string => {
  switch (cap) {
    case 'perPhone':
      return keys.phoneDayCount(phone.e164, issuedAt);
    case 'perIp':
      return keys.ipHourCount(sourceIp, issuedAt);
    case 'global':
      return keys.globalMinuteCount(issuedAt);
  }
};

const maxOf = (cap: Cap, limits: SendLimits): number =>
  ({ perPhone: limits.maxPerPhonePerDay, perIp: limits.maxPerIpPerHour, global: limits.maxPerMinute })[cap];

export const CAPS: readonly Cap[] = ['perPhone', 'perIp', 'global'];

/** One more code in the cap's window, refused once the window holds its maximum. */
export function countIssuedItem(tableName: string, cap: Cap, issue: CodeIssue, limits: SendLimits): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: counterKey(cap, issue) },
      UpdateExpression: 'SET #ttl = :ttl ADD #count :one',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
      ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
      // Kept an hour past its window, then TTL removes it.
      ExpressionAttributeValues: { ':one': 1, ':max': maxOf(cap, limits), ':ttl': ttlSeconds(windowEnd(issue.issuedAt, WINDOW[cap])) + 3600 },
    },
  };
}

/** Takes the code of `issue` back out of the cap's window. */
export function uncountItem(tableName: string, cap: Cap, issue: CodeIssue): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: counterKey(cap, issue) },
      UpdateExpression: 'ADD #count :minusOne',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':minusOne': -1 },
    },
  };
}
