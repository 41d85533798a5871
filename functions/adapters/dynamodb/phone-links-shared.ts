/**
 * What both ways of writing a link (transactional-phone-links.ts,
 * ordered-phone-links.ts) share: the tables, the first read, the condition
 * that a user is as read, and how drift is reported.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import { count, logger, maskPhone } from '../../observability';
import type { User } from '../../ports';
import { keys } from './keys';
import { DynamoUsers, toUser } from './users';
import { toStoredCode } from './verification-codes';

const BATCH_READ_ATTEMPTS = 5;

export interface PhoneLinkTables {
  readonly usersTableName: string;
  /** None where no code is consumed (the admin function has no right on the codes table). */
  readonly codesTableName: string | undefined;
}

/** The codes table, for a store about to consume a code. */
export function codesTableOf(tables: PhoneLinkTables): string {
  if (tables.codesTableName === undefined) throw new Error('the phone links were given no codes table: they cannot consume a code');
  return tables.codesTableName;
}

/**
 * The user and, when asked, the latest code for (phone, purpose), read
 * consistently. A BatchGetItem with ConsistentRead, which a multi-Region
 * table allows too.
 */
export async function findUserWithCode(
  db: DynamoDBDocumentClient,
  tables: PhoneLinkTables,
  uid: string,
  code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
  if (!code) return { user: await new DynamoUsers(db, tables.usersTableName).find(uid), code: undefined };
  const userKey = keys.user(uid);
  const codeKey = keys.code(code.purpose, code.phone.e164);
  let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
    [tables.usersTableName]: { Keys: [{ pk: userKey }], ConsistentRead: true },
    [codesTableOf(tables)]: { Keys: [{ pk: codeKey }], ConsistentRead: true },
  };
  const found = new Map<string, Record<string, unknown>>();
  // One round trip for both items; DynamoDB may defer keys under load.
  for (let attempt = 1; request && Object.keys(request).length > 0; attempt++) {
    if (attempt > BATCH_READ_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
    const { Responses = {}, UnprocessedKeys } = await db.send(new BatchGetCommand({ RequestItems: request }));
    for (const items of Object.values(Responses)) {
      for (const item of items) found.set(String(item.pk), item);
    }
    request = UnprocessedKeys as typeof request;
  }
  const userItem = found.get(userKey);
  const codeItem = found.get(codeKey);
  return { user: userItem && toUser(userItem), code: codeItem && toStoredCode(codeItem) };
}

/**
 * The condition that a user is still as it was read: new (no record),
 * without a phone, or with that phone (`:previousPhone`).
 */
export const userAsRead = (isNewUser: boolean, phone: PhoneNumber | undefined): string =>
  isNewUser
    ? 'attribute_not_exists(pk)'
    : phone
      ? 'phone = :previousPhone'
      : '(attribute_exists(pk) AND attribute_not_exists(phone) AND attribute_not_exists(erasedAt))';

/** Drift met on the user's own claim: missing, or another user's. */
export type ClaimDrift = 'claim-missing' | 'claim-of-another-user';

/** Drift between a user and a claim (docs/API.md): the user's claim drifted, or a claim names a user that does not hold its phone. */
export type Drift = ClaimDrift | 'claim-without-its-user';

/** A drift met and repaired: `uid` is the user of the pair (for 'claim-without-its-user', the claim's owner), `phone` the claim's. */
export interface RepairedDrift {
  readonly drift: Drift;
  readonly uid: string;
  readonly phone: PhoneNumber;
}

/** Drift is repaired where it is met; the operator still hears of it. */
export function reportDrift({ drift, uid, phone }: RepairedDrift): void {
  logger.warn('Data drift repaired', { drift, uid, phone: maskPhone(phone.e164) });
  count('DataDriftRepaired');
}
