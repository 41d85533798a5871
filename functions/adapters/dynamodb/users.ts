import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { User, Users } from '../../ports';
import { keys } from './keys';

/** Users in the users table. */
export class DynamoUsers implements Users {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly usersTableName: string,
  ) {}

  async find(uid: string): Promise<User | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.usersTableName, Key: { pk: keys.user(uid) }, ConsistentRead: true }));
    return Item ? toUser(Item) : undefined;
  }

  async register(uid: string, now: number): Promise<User> {
    const item = { pk: keys.user(uid), uid, createdAt: new Date(now).toISOString() };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.usersTableName,
          Item: item,
          // A tombstone is replaced: the uid starts afresh, with no phone.
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(erasedAt)',
        }),
      );
      return toUser(item);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // The user exists (perhaps made by this very write, retried after its answer was lost): as it stands.
    const existing = await this.find(uid);
    if (!existing) throw new Error(`register: user ${uid} exists and then does not`);
    return existing;
  }
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A user item as the use cases see it: the phone only when all its parts are there. */
export function toUser(item: Record<string, unknown>): User {
  if (typeof item.erasedAt === 'string') return { uid: String(item.uid), erasedAt: item.erasedAt };
  const e164 = optionalString(item.phone);
  const callingCode = optionalString(item.callingCode);
  const nationalNumber = optionalString(item.nationalNumber);
  return {
    uid: String(item.uid),
    ...(e164 && callingCode && nationalNumber ? { phone: { e164, callingCode, nationalNumber } } : {}),
    ...(item.phoneLinkedAt ? { phoneLinkedAt: String(item.phoneLinkedAt) } : {}),
  };
}
