import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { User, Users } from '../../ports';
import { conditionalWrite } from './conditional-write';
import { keys } from './keys';
import { finishErasure, isSettlingTombstone } from './pending-operations';

/** A tombstone is replaced: the uid starts afresh, with no phone; but not while its erasure is still settling (finishErasure). */
const REGISTERABLE = 'attribute_not_exists(pk) OR (attribute_exists(erasedAt) AND attribute_not_exists(pendingOperation))';

/** Reading and registering users; a user's phone changes only through PhoneLinks. */
export class DynamoUsers implements Users {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly usersTableName: string,
  ) {}

  async find(uid: string): Promise<User | undefined> {
    const item = await this.read(keys.user(uid));
    return item ? toUser(item) : undefined;
  }

  async register(uid: string, now: number): Promise<User> {
    const item = { pk: keys.user(uid), uid, createdAt: new Date(now).toISOString() };
    // Another pass only if a first link's rollback deleted the record between the reads and writes of the one before, or an erasure was finished.
    for (let pass = 1; pass <= 3; pass++) {
      const put = new PutCommand({ TableName: this.usersTableName, Item: item, ConditionExpression: REGISTERABLE });
      if (await conditionalWrite(() => this.db.send(put))) return toUser(item);
      // The user exists (perhaps made by this very write, retried after its answer was lost): as it stands.
      const existing = await this.read(item.pk);
      if (!existing) continue;
      if (isSettlingTombstone(existing)) {
        await finishErasure(this.db, this.usersTableName, existing);
        continue;
      }
      if (existing.pendingCreate === undefined) return toUser(existing);
      // A record a first link is still creating (ordered-writes mode) becomes a registered one, which that link's rollback keeps.
      const kept = new UpdateCommand({
        TableName: this.usersTableName,
        Key: { pk: item.pk },
        UpdateExpression: 'SET createdAt = if_not_exists(createdAt, :createdAt) REMOVE pendingCreate',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':createdAt': item.createdAt },
      });
      if (await conditionalWrite(() => this.db.send(kept))) return (await this.find(uid)) ?? toUser(item);
    }
    throw new Error(`register: user ${uid} kept changing`);
  }

  private async read(pk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.usersTableName, Key: { pk }, ConsistentRead: true }));
    return Item;
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
