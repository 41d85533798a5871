import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/aws-http-client';
import type { DocumentClient, Item } from './client';
import type { PhoneNumber } from '../../domain/phone';
import type { CodeType, StoredCode } from '../../domain/verification-code';
import type { LinkAttempt, LinkOutcome, PhoneLinks, UnlinkAttempt, UnlinkOutcome, User, Users } from '../../ports';
import { cancellationReasons, collided, failedCondition, onlyExpectedReasons } from './cancellation';
import { keys } from './keys';
import { toStoredCode } from './verification-codes';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const BATCH_READ_ATTEMPTS = 5;

/** Users in the users table. */
export class DynamoUsers implements Users {
  constructor(
    private readonly db: DocumentClient,
    private readonly usersTableName: string,
  ) {}

  async find(uid: string): Promise<User | undefined> {
    const { Item } = await this.db.get({ TableName: this.usersTableName, Key: { pk: keys.user(uid) }, ConsistentRead: true });
    return Item ? toUser(Item) : undefined;
  }

  async ensure(uid: string): Promise<void> {
    try {
      await this.db.put({
        TableName: this.usersTableName,
        Item: { pk: keys.user(uid), uid, createdAt: new Date().toISOString() },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}

/** Links between users and phones: phone claims in the users table, codes consumed from the codes table. */
export class DynamoPhoneLinks implements PhoneLinks {
  constructor(
    private readonly db: DocumentClient,
    private readonly tables: { readonly usersTableName: string; readonly codesTableName: string },
  ) {}

  async findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; codeType: CodeType } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
    if (!code) return { user: await new DynamoUsers(this.db, this.tables.usersTableName).find(uid), code: undefined };
    const userKey = keys.user(uid);
    const codeKey = keys.code(code.codeType, code.phone.e164);
    let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
      [this.tables.usersTableName]: { Keys: [{ pk: userKey }], ConsistentRead: true },
      [this.tables.codesTableName]: { Keys: [{ pk: codeKey }], ConsistentRead: true },
    };
    const found = new Map<string, Item>();
    // One round trip for both items; DynamoDB may defer keys under load.
    for (let attempt = 1; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > BATCH_READ_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
      const { Responses, UnprocessedKeys } = await this.db.batchGet({ RequestItems: request });
      for (const items of Object.values(Responses ?? {})) {
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
    const consumeCode = this.consumeCode(attempt);
    const linkedAt = new Date(now).toISOString();
    const claimPhone: TransactItem = {
      Put: {
        TableName: this.tables.usersTableName,
        Item: { pk: keys.phoneClaim(phone.e164), uid, linkedAt },
        ConditionExpression: 'attribute_not_exists(pk) OR uid = :uid',
        ExpressionAttributeValues: { ':uid': uid },
      },
    };
    const updateUser: TransactItem = {
      Update: {
        TableName: this.tables.usersTableName,
        Key: { pk: keys.user(uid) },
        UpdateExpression:
          'SET phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, phoneLinkedAt = :linkedAt',
        // Applies only to the user as read: a concurrent link or unlink makes the caller re-read.
        ConditionExpression: previousPhone
          ? 'attribute_exists(pk) AND phone = :previousPhone'
          : 'attribute_exists(pk) AND attribute_not_exists(phone)',
        ExpressionAttributeValues: {
          ':phone': phone.e164,
          ':callingCode': phone.callingCode,
          ':nationalNumber': phone.nationalNumber,
          ':linkedAt': linkedAt,
          ...(previousPhone ? { ':previousPhone': previousPhone.e164 } : {}),
        },
      },
    };
    const items: TransactItem[] = [consumeCode, claimPhone, updateUser];
    if (previousPhone && previousPhone.e164 !== phone.e164) {
      items.push({
        Delete: {
          TableName: this.tables.usersTableName,
          Key: { pk: keys.phoneClaim(previousPhone.e164) },
          ConditionExpression: 'uid = :uid',
          ExpressionAttributeValues: { ':uid': uid },
        },
      });
    }
    try {
      await this.db.transactWrite({ TransactItems: items });
      return 'linked';
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons || !onlyExpectedReasons(reasons)) throw error;
      if (failedCondition(reasons, 0)) return 'code-rejected';
      if (failedCondition(reasons, 1)) return 'phone-taken';
      if (collided(reasons) || reasons.includes('ConditionalCheckFailed')) return 'conflict';
      throw error;
    }
  }

  async unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome> {
    const { uid, phone } = attempt;
    const releaseClaim: TransactItem = {
      Delete: {
        TableName: this.tables.usersTableName,
        Key: { pk: keys.phoneClaim(phone.e164) },
        ConditionExpression: 'uid = :uid',
        ExpressionAttributeValues: { ':uid': uid },
      },
    };
    const clearUserPhone: TransactItem = {
      Update: {
        TableName: this.tables.usersTableName,
        Key: { pk: keys.user(uid) },
        UpdateExpression: 'REMOVE phone, callingCode, nationalNumber, phoneLinkedAt',
        ConditionExpression: 'phone = :phone',
        ExpressionAttributeValues: { ':phone': phone.e164 },
      },
    };
    try {
      await this.db.transactWrite({ TransactItems: [this.consumeCode(attempt), releaseClaim, clearUserPhone] });
      return 'unlinked';
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons || !onlyExpectedReasons(reasons)) throw error;
      if (failedCondition(reasons, 0)) return 'code-rejected';
      return 'conflict';
    }
  }

  /** Uses up the code, provided it is still the one that was judged, fresh and not void. */
  private consumeCode(attempt: {
    phone: PhoneNumber;
    codeType: CodeType;
    codeHash: string;
    maxWrongTries: number;
    now: number;
  }): TransactItem {
    return {
      Update: {
        TableName: this.tables.codesTableName,
        Key: { pk: keys.code(attempt.codeType, attempt.phone.e164) },
        UpdateExpression: 'SET consumedAt = :now REMOVE codeHash',
        ConditionExpression: 'codeHash = :hash AND expiresAt > :now AND wrongTries < :maxWrongTries',
        ExpressionAttributeValues: { ':hash': attempt.codeHash, ':now': attempt.now, ':maxWrongTries': attempt.maxWrongTries },
      },
    };
  }
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function toUser(item: Item): User {
  const e164 = optionalString(item.phone);
  const callingCode = optionalString(item.callingCode);
  const nationalNumber = optionalString(item.nationalNumber);
  return {
    uid: String(item.uid),
    ...(e164 && callingCode && nationalNumber ? { phone: { e164, callingCode, nationalNumber } } : {}),
    ...(item.phoneLinkedAt ? { phoneLinkedAt: String(item.phoneLinkedAt) } : {}),
  };
}
