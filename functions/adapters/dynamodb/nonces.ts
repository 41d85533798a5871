import type { CodeIssue } from '../../ports';
import { keys, ttlSeconds } from './keys';
import type { TransactItem } from './transactions';

/**
 * Uses up a request's `random` for its user domain. The item names the
 * issue that used it, so a retry of the same write (its answer lost)
 * recognises itself instead of taking its own request for a replay.
 */
export function useNonceItem(tableName: string, issue: CodeIssue, issueId: string): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        pk: keys.nonce(issue.userDomain, issue.random),
        issueId,
        expiresAt: issue.nonceExpiresAt,
        ttl: ttlSeconds(issue.nonceExpiresAt),
      },
      // TTL deletes lazily: an item past its time no longer counts as used.
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR issueId = :issueId',
      ExpressionAttributeValues: { ':now': issue.issuedAt, ':issueId': issueId },
    },
  };
}
