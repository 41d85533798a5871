import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import type { ErasureAttempt, ErasureOutcome, LinkAttempt, LinkOutcome, PhoneLinks, UnlinkAttempt, UnlinkOutcome, User } from '../../ports';
import { keys, ttlSeconds } from './keys';
import { writeTogether, type TransactItem } from './transactions';
import { DynamoUsers, toUser } from './users';
import { consumeCodeItem, toStoredCode } from './verification-codes';

const BATCH_READ_ATTEMPTS = 5;

export interface PhoneLinkTables {
  readonly usersTableName: string;
  /** None where no code is consumed (the admin function has no right on the codes table). */
  readonly codesTableName: string | undefined;
}

/**
 * Links between users and phones. A phone belongs to one user through its
 * claim item (`PHONE#<e164>` in the users table); a link or an unlink
 * consumes a code from the codes table and changes the claim and the user
 * in one transaction.
 */
export class DynamoPhoneLinks implements PhoneLinks {
  private readonly users: DynamoUsers;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: PhoneLinkTables,
  ) {
    this.users = new DynamoUsers(db, tables.usersTableName);
  }

  async findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
    if (!code) return { user: await this.users.find(uid), code: undefined };
    const userKey = keys.user(uid);
    const codeKey = keys.code(code.purpose, code.phone.e164);
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
      [this.tables.usersTableName]: { Keys: [{ pk: userKey }], ConsistentRead: true },
      [this.codesTableName()]: { Keys: [{ pk: codeKey }], ConsistentRead: true },
    };
    const found = new Map<string, Record<string, unknown>>();
    // One round trip for both items; DynamoDB may defer keys under load.
    for (let attempt = 1; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > BATCH_READ_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
      const { Responses = {}, UnprocessedKeys } = await this.db.send(new BatchGetCommand({ RequestItems: request }));
      for (const items of Object.values(Responses)) {
        for (const item of items) found.set(String(item.pk), item);
      }
      request = UnprocessedKeys as typeof request;
    }
    const userItem = found.get(userKey);
    const codeItem = found.get(codeKey);
    return { user: userItem && toUser(userItem), code: codeItem && toStoredCode(codeItem) };
  }

  async linkPhone(attempt: LinkAttempt): Promise<LinkOutcome> {
    const { uid, phone, previousPhone, now } = attempt;
    const linkedAt = new Date(now).toISOString();
    const outcome = await writeTogether(this.db, {
      consumeCode: attempt.proof && consumeCodeItem(this.codesTableName(), phone, attempt.proof, now),
      claimPhone: {
        Put: {
          TableName: this.tables.usersTableName,
          Item: { pk: keys.phoneClaim(phone.e164), uid, linkedAt },
          ConditionExpression: 'attribute_not_exists(pk) OR uid = :uid',
          ExpressionAttributeValues: { ':uid': uid },
        },
      },
      updateUser: {
        Update: {
          TableName: this.tables.usersTableName,
          Key: { pk: keys.user(uid) },
          // Creates the record of a user known on first use: no call of its own.
          UpdateExpression:
            'SET uid = :uid, createdAt = if_not_exists(createdAt, :linkedAt), ' +
            'phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, phoneLinkedAt = :linkedAt',
          // Applies only to the user as read: a concurrent link, unlink or erasure makes the caller re-read.
          ConditionExpression: attempt.isNewUser
            ? 'attribute_not_exists(pk)'
            : previousPhone
              ? 'phone = :previousPhone'
              : 'attribute_exists(pk) AND attribute_not_exists(phone) AND attribute_not_exists(erasedAt)',
          ExpressionAttributeValues: {
            ':uid': uid,
            ':phone': phone.e164,
            ':callingCode': phone.callingCode,
            ':nationalNumber': phone.nationalNumber,
            ':linkedAt': linkedAt,
            ...(previousPhone ? { ':previousPhone': previousPhone.e164 } : {}),
          },
        },
      },
      releasePreviousClaim: previousPhone && previousPhone.e164 !== phone.e164 ? this.releaseClaim(uid, previousPhone) : undefined,
    });
    if (outcome.written) return 'linked';
    if (outcome.failed.has('consumeCode')) return 'code-rejected';
    if (outcome.failed.has('claimPhone')) return 'phone-taken';
    return 'conflict';
  }

  async unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome> {
    const { uid, phone, now } = attempt;
    const outcome = await writeTogether(this.db, {
      consumeCode: consumeCodeItem(this.codesTableName(), phone, attempt.proof, now),
      releaseClaim: this.releaseClaim(uid, phone),
      clearUserPhone: {
        Update: {
          TableName: this.tables.usersTableName,
          Key: { pk: keys.user(uid) },
          UpdateExpression: 'REMOVE phone, callingCode, nationalNumber, phoneLinkedAt',
          ConditionExpression: 'phone = :phone',
          ExpressionAttributeValues: { ':phone': phone.e164 },
        },
      },
    });
    if (outcome.written) return 'unlinked';
    if (outcome.failed.has('consumeCode')) return 'code-rejected';
    return 'conflict';
  }

  async eraseUser(attempt: ErasureAttempt): Promise<ErasureOutcome> {
    const { uid, phone, now } = attempt;
    const outcome = await writeTogether(this.db, {
      // A missing claim is no reason to keep a user's data: only another user's claim stays.
      releaseClaim: phone && this.releaseClaim(uid, phone, { evenIfMissing: true }),
      leaveTombstone: {
        Put: {
          TableName: this.tables.usersTableName,
          Item: { pk: keys.user(uid), uid, erasedAt: new Date(now).toISOString(), ttl: ttlSeconds(attempt.retainUntil) },
          // Only over the user as read: a link or unlink meanwhile makes the caller re-read.
          ConditionExpression: attempt.isNewUser
            ? 'attribute_not_exists(pk)'
            : phone
              ? 'phone = :phone'
              : 'attribute_exists(pk) AND attribute_not_exists(phone) AND attribute_not_exists(erasedAt)',
          ...(phone ? { ExpressionAttributeValues: { ':phone': phone.e164 } } : {}),
        },
      },
    });
    return outcome.written ? 'erased' : 'conflict';
  }

  private codesTableName(): string {
    const name = this.tables.codesTableName;
    if (name === undefined) throw new Error('DynamoPhoneLinks was given no codes table: it cannot consume a code');
    return name;
  }

  /** Deletes the phone's claim, provided it is this user's. */
  private releaseClaim(uid: string, phone: PhoneNumber, { evenIfMissing = false } = {}): TransactItem {
    return {
      Delete: {
        TableName: this.tables.usersTableName,
        Key: { pk: keys.phoneClaim(phone.e164) },
        ConditionExpression: evenIfMissing ? 'attribute_not_exists(pk) OR uid = :uid' : 'uid = :uid',
        ExpressionAttributeValues: { ':uid': uid },
      },
    };
  }
}
