import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import type { ErasureAttempt, ErasureOutcome, LinkAttempt, LinkOutcome, PhoneLinks, UnlinkAttempt, UnlinkOutcome, User } from '../../ports';
import { keys, ttlSeconds } from './keys';
import { codesTableOf, findUserWithCode, reportDrift, userAsRead, type ClaimDrift, type PhoneLinkTables } from './phone-links-shared';
import { writeTogether, type TransactItem } from './transactions';
import { consumeCodeItem } from './verification-codes';

/**
 * Phone links in transactions (PHONE_LINKS_MODE=transactions, a
 * single-Region users table). A phone belongs to one user through its
 * claim item (`PHONE#<e164>` in the users table); a link, an unlink or an
 * erasure consumes its code (if any) and changes the claims and the user in
 * one transaction, so nothing is ever left half-done.
 */
export class TransactionalPhoneLinks implements PhoneLinks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: PhoneLinkTables,
  ) {}

  findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
    return findUserWithCode(this.db, this.tables, uid, code);
  }

  async linkPhone(attempt: LinkAttempt): Promise<LinkOutcome> {
    const { uid, phone, previousPhone, now } = attempt;
    const linkedAt = new Date(now).toISOString();
    // The phone the user moves away from, whose claim the link releases.
    const leaving = previousPhone?.e164 !== phone.e164 ? previousPhone : undefined;
    let previousClaim: ClaimState = 'ours';
    let staleOwner: string | undefined;
    // A second or third pass only after finding drift in the one before; it is reported once repaired.
    for (let pass = 1; pass <= 3; pass++) {
      const outcome = await writeTogether(this.db, {
        consumeCode: attempt.proof && consumeCodeItem(codesTableOf(this.tables), phone, attempt.proof, now),
        claimPhone: {
          Put: {
            TableName: this.tables.usersTableName,
            Item: { pk: keys.phoneClaim(phone.e164), uid, linkedAt },
            ConditionExpression: staleOwner ? 'attribute_not_exists(pk) OR uid IN (:uid, :staleOwner)' : 'attribute_not_exists(pk) OR uid = :uid',
            ExpressionAttributeValues: { ':uid': uid, ...(staleOwner ? { ':staleOwner': staleOwner } : {}) },
          },
        },
        // Taking over a stale claim: only while its owner still does not hold the phone.
        staleOwnerStillWithout: staleOwner ? this.userDoesNotHold(staleOwner, phone) : undefined,
        updateUser: {
          Update: {
            TableName: this.tables.usersTableName,
            Key: { pk: keys.user(uid) },
            // Creates the record of a user known on first use: no call of its own.
            UpdateExpression:
              'SET uid = :uid, createdAt = if_not_exists(createdAt, :linkedAt), ' +
              'phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, phoneLinkedAt = :linkedAt',
            // Applies only to the user as read: a concurrent link, unlink or erasure makes the caller re-read.
            ConditionExpression: userAsRead(attempt.isNewUser, previousPhone),
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
        releasePreviousClaim: leaving && this.releaseClaim(uid, leaving, previousClaim),
      });
      if (outcome.written) {
        if (staleOwner) reportDrift({ drift: 'claim-without-its-user', uid: staleOwner, phone });
        if (previousClaim !== 'ours' && leaving) reportDrift({ drift: previousClaim, uid, phone: leaving });
        return 'linked';
      }
      if (outcome.failed.has('consumeCode')) return 'code-rejected';
      if (outcome.failed.has('claimPhone')) {
        // Only a claim that alone stood in the way may be stale; a user changed meanwhile is a plain race.
        staleOwner = !staleOwner && failedAlone(outcome.failed, 'claimPhone') ? await this.staleClaimOwner(phone) : undefined;
        if (!staleOwner) return 'phone-taken';
        continue;
      }
      if (failedAlone(outcome.failed, 'releasePreviousClaim') && previousClaim === 'ours' && leaving) {
        previousClaim = await this.claimStateFor(uid, leaving);
        if (previousClaim !== 'ours') continue;
      }
      return 'conflict';
    }
    return 'conflict';
  }

  async unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome> {
    const { uid, phone, now } = attempt;
    let claim: ClaimState = 'ours';
    for (let pass = 1; pass <= 2; pass++) {
      const outcome = await writeTogether(this.db, {
        consumeCode: consumeCodeItem(codesTableOf(this.tables), phone, attempt.proof, now),
        releaseClaim: this.releaseClaim(uid, phone, claim),
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
      if (outcome.written) {
        if (claim !== 'ours') reportDrift({ drift: claim, uid, phone });
        return 'unlinked';
      }
      if (outcome.failed.has('consumeCode')) return 'code-rejected';
      if (!failedAlone(outcome.failed, 'releaseClaim') || claim !== 'ours') return 'conflict';
      claim = await this.claimStateFor(uid, phone);
      if (claim === 'ours') return 'conflict';
    }
    return 'conflict';
  }

  async eraseUser(attempt: ErasureAttempt): Promise<ErasureOutcome> {
    const { uid, phone, now } = attempt;
    let claim: ClaimState = 'ours';
    for (let pass = 1; pass <= 2; pass++) {
      const outcome = await writeTogether(this.db, {
        releaseClaim: phone && this.releaseClaim(uid, phone, claim),
        leaveTombstone: {
          Put: {
            TableName: this.tables.usersTableName,
            Item: { pk: keys.user(uid), uid, erasedAt: new Date(now).toISOString(), ttl: ttlSeconds(attempt.retainUntil) },
            // Only over the user as read: a link or unlink meanwhile makes the caller re-read.
            ConditionExpression: userAsRead(attempt.isNewUser, phone),
            ...(phone ? { ExpressionAttributeValues: { ':previousPhone': phone.e164 } } : {}),
          },
        },
      });
      if (outcome.written) {
        if (claim !== 'ours' && phone) reportDrift({ drift: claim, uid, phone });
        return 'erased';
      }
      if (!phone || !failedAlone(outcome.failed, 'releaseClaim') || claim !== 'ours') return 'conflict';
      claim = await this.claimStateFor(uid, phone);
      if (claim === 'ours') return 'conflict';
    }
    return 'conflict';
  }

  /**
   * Releases the phone's claim, provided it is this user's; when drift left
   * it missing or someone else's, it is only checked to still be so, and
   * left as it is.
   */
  private releaseClaim(uid: string, phone: PhoneNumber, claim: ClaimState): TransactItem {
    const Key = { pk: keys.phoneClaim(phone.e164) };
    const TableName = this.tables.usersTableName;
    const ExpressionAttributeValues = { ':uid': uid };
    if (claim === 'ours') return { Delete: { TableName, Key, ConditionExpression: 'uid = :uid', ExpressionAttributeValues } };
    return { ConditionCheck: { TableName, Key, ConditionExpression: 'attribute_not_exists(pk) OR uid <> :uid', ExpressionAttributeValues } };
  }

  /** A user that does not hold the phone (no record, erased, or another phone). */
  private userDoesNotHold(uid: string, phone: PhoneNumber): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tables.usersTableName,
        Key: { pk: keys.user(uid) },
        ConditionExpression: 'attribute_not_exists(phone) OR phone <> :phone',
        ExpressionAttributeValues: { ':phone': phone.e164 },
      },
    };
  }

  /**
   * Why the user's claim on its phone would not release: still its own (a
   * race: re-read), or drift (the claim missing, or another user's).
   */
  private async claimStateFor(uid: string, phone: PhoneNumber): Promise<ClaimState> {
    const claim = await this.read(keys.phoneClaim(phone.e164));
    if (claim?.uid === uid) return 'ours';
    return claim ? 'claim-of-another-user' : 'claim-missing';
  }

  /** The owner of the phone's claim if that owner does not hold the phone (drift), so the claim may be taken over. */
  private async staleClaimOwner(phone: PhoneNumber): Promise<string | undefined> {
    const claim = await this.read(keys.phoneClaim(phone.e164));
    if (typeof claim?.uid !== 'string') return undefined;
    const owner = await this.read(keys.user(claim.uid));
    return owner?.phone === phone.e164 ? undefined : claim.uid;
  }

  private async read(pk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tables.usersTableName, Key: { pk }, ConsistentRead: true }));
    return Item;
  }
}

/** What a user's claim on its phone turned out to be: anything but 'ours' is drift. */
type ClaimState = 'ours' | ClaimDrift;

/** Whether the item named was the only one whose condition failed: anything more is a race, not drift. */
const failedAlone = (failed: ReadonlySet<string>, name: string): boolean => failed.size === 1 && failed.has(name);
