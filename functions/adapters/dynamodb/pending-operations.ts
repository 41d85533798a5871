/**
 * What an operation of the ordered writes (ordered-phone-links.ts) leaves
 * pending on the items it touches, and how anyone settles it: the
 * operation itself, another request that meets it, a register, or the
 * LinkReconciler.
 */
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { keys } from './keys';

/**
 * How long an operation may stay pending before another request or the
 * reconciler may roll it back: far longer than any function runs, so only a
 * crashed operation is ever rolled back.
 */
export const OPERATION_LEASE_MS = 60_000;

type Item = Record<string, unknown>;

/** What a pending claim is in the middle of: being taken by its uid, or given up by it. */
export const CLAIMING = 'claim';
export const RELEASING = 'release';

/** The attributes a pending operation puts on the user, all removed by its commit or its rollback. */
export const USER_MARKER = 'pendingOperation, claimingPhone, releasingPhone, pendingCreate, dueShard, dueAt';
/** The attributes a pending operation puts on a claim; its confirmation leaves `lastOperation`, the operation that made it. */
const CLAIM_MARKER = 'pendingOperation, pendingAction, dueShard, dueAt';

/** 'moved-on': settled meanwhile by someone else (the operation itself, another request, another region's reconciler). */
export type Settlement = 'finished' | 'rolled-back' | 'in-flight' | 'moved-on';

/**
 * Settles what an operation left pending, item by item, from the state of
 * the user it belongs to, so the same rules serve a request that meets the
 * marker and the scheduled reconciler. Finishing a committed operation is
 * safe at any time; rolling one back only once its lease is over. A
 * rollback after the code was consumed leaves the code used: the user asks
 * for a new one, as after any failed request.
 */
export class PendingOperations {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly usersTableName: string,
    private readonly leaseMs: number,
  ) {}

  /** A claim pending with an operation: confirmed or deleted when it is done, undone when it expired unfinished. */
  async settleClaim(claim: Item, now: number): Promise<Settlement> {
    const phone = keys.phoneOfClaim(String(claim.pk));
    const operation = String(claim.pendingOperation);
    const expired = Number(claim.dueAt) <= now - this.leaseMs;
    const owner = await this.read(keys.user(String(claim.uid)));
    const ownerMidOperation = owner?.pendingOperation === operation;
    // An erasure committed by its tombstone is finished, never rolled back, lease or not.
    if (ownerMidOperation && isSettlingTombstone(owner)) {
      await finishErasure(this.db, this.usersTableName, owner);
      return 'finished';
    }
    const ownerHolds = isHolder(owner, phone);
    if (claim.pendingAction === CLAIMING) {
      // The owner holds the phone only once the operation committed.
      if (!ownerMidOperation && ownerHolds) {
        await this.confirmClaim(phone, operation);
        return 'finished';
      }
      if (!expired) return 'in-flight';
      // The owner changed since it was read (the operation committed, or someone rolled it back): decide again.
      if (ownerMidOperation && !(await this.rollBackUser(String(owner.pk), operation, owner.pendingCreate === true))) return this.settleAgain(claim, now);
      await this.dropClaim(phone, operation);
      return 'rolled-back';
    }
    // Releasing: once the owner no longer holds the phone, the claim has no reason left, whatever became of the operation.
    if (!ownerMidOperation && !ownerHolds) {
      await this.deleteReleased(phone, operation);
      return 'finished';
    }
    if (!expired) return 'in-flight';
    if (ownerMidOperation && !(await this.rollBackUser(String(owner.pk), operation, owner.pendingCreate === true))) return this.settleAgain(claim, now);
    await this.restoreClaim(phone, operation);
    return 'rolled-back';
  }

  /** The claim as it is now, settled by the same rules; one whose operation moved on is no longer this settler's. */
  private async settleAgain(claim: Item, now: number): Promise<Settlement> {
    const current = await this.read(String(claim.pk));
    if (!current || current.pendingOperation !== claim.pendingOperation || current.pendingAction !== claim.pendingAction) return 'moved-on';
    return this.settleClaim(current, now);
  }

  /**
   * A user marked with an operation that never committed: once expired, the
   * mark and then its claims are rolled back. A tombstone still marked is an
   * erasure that did commit: finished at once.
   */
  async settleUser(user: Item, now: number): Promise<Settlement> {
    if (isSettlingTombstone(user)) return (await finishErasure(this.db, this.usersTableName, user)) ? 'finished' : 'moved-on';
    if (Number(user.dueAt) > now - this.leaseMs) return 'in-flight';
    const operation = String(user.pendingOperation);
    // Failed: the operation committed or was rolled back meanwhile; its claims are settled all the same, by their own rules.
    const rolledBack = await this.rollBackUser(String(user.pk), operation, user.pendingCreate === true);
    for (const phone of [user.claimingPhone, user.releasingPhone]) {
      if (typeof phone !== 'string') continue;
      const claim = await this.read(keys.phoneClaim(phone));
      if (claim?.pendingOperation === operation && typeof claim.pendingAction === 'string') await this.settleClaim(claim, now);
    }
    return rolledBack ? 'rolled-back' : 'moved-on';
  }

  /** Whether the user holds the phone (has it, and is not erased). */
  async holds(uid: string, e164: string): Promise<boolean> {
    return isHolder(await this.read(keys.user(uid)), e164);
  }

  async rollBackUser(pk: string, operation: string, createdByOperation: boolean): Promise<boolean> {
    const TableName = this.usersTableName;
    // Never an erasure's tombstone: that operation committed.
    const uncommitted = 'pendingOperation = :operation AND attribute_not_exists(erasedAt)';
    const condition = { ConditionExpression: uncommitted, ExpressionAttributeValues: { ':operation': operation } };
    // A user first known by this operation had no record before it, unless it was registered meanwhile (register keeps it).
    if (createdByOperation) {
      const created = { ...condition, ConditionExpression: `${uncommitted} AND attribute_exists(pendingCreate)` };
      if (await conditionalWrite(() => this.db.send(new DeleteCommand({ TableName, Key: { pk }, ...created })))) return true;
    }
    return conditionalWrite(() => this.db.send(new UpdateCommand({ TableName, Key: { pk }, UpdateExpression: `REMOVE ${USER_MARKER}`, ...condition })));
  }

  dropClaim(e164: string, operation: string): Promise<boolean> {
    return this.onClaim(e164, operation, CLAIMING, 'delete');
  }

  confirmClaim(e164: string, operation: string): Promise<boolean> {
    return this.onClaim(e164, operation, CLAIMING, 'confirm');
  }

  restoreClaim(e164: string, operation: string): Promise<boolean> {
    return this.onClaim(e164, operation, RELEASING, 'clear-marker');
  }

  deleteReleased(e164: string, operation: string): Promise<boolean> {
    return this.onClaim(e164, operation, RELEASING, 'delete');
  }

  async read(pk: string): Promise<Item | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.usersTableName, Key: { pk }, ConsistentRead: true }));
    return Item;
  }

  /** A write on a claim only while it is still pending with that operation and action: false when it no longer is. */
  private onClaim(e164: string, operation: string, action: string, change: 'delete' | 'clear-marker' | 'confirm'): Promise<boolean> {
    const input = {
      TableName: this.usersTableName,
      Key: { pk: keys.phoneClaim(e164) },
      ConditionExpression: 'pendingOperation = :operation AND pendingAction = :action',
      ExpressionAttributeValues: { ':operation': operation, ':action': action },
    };
    if (change === 'delete') return conditionalWrite(() => this.db.send(new DeleteCommand(input)));
    const confirm = change === 'confirm' ? 'SET lastOperation = :operation ' : '';
    return conditionalWrite(() => this.db.send(new UpdateCommand({ ...input, UpdateExpression: `${confirm}REMOVE ${CLAIM_MARKER}` })));
  }
}

const isHolder = (user: Item | undefined, e164: string): user is Item => user?.phone === e164 && user.erasedAt === undefined;

/** The tombstone of an erasure (ordered-writes mode) that still carries its operation: the claim it released may still be there. */
export const isSettlingTombstone = (item: Item): boolean => typeof item.erasedAt === 'string' && typeof item.pendingOperation === 'string';

/**
 * Finishes an erasure of the ordered-writes mode, already committed by its
 * tombstone: deletes the claim it released (while that claim is still
 * pending with the erasure), then the operation's marker on the tombstone,
 * which then waits in the due index for its retention to pass. Until then
 * nothing replaces the tombstone, so the claim can never outlive it on a
 * uid registered afresh. Safe to run by anyone, at any time, more than
 * once: the erasure itself, a register, another request, the reconciler.
 * True when this call cleared the marker.
 */
export async function finishErasure(db: DynamoDBDocumentClient, usersTableName: string, tombstone: Item): Promise<boolean> {
  const ExpressionAttributeValues = { ':operation': tombstone.pendingOperation };
  const ConditionExpression = 'pendingOperation = :operation';
  if (typeof tombstone.releasingPhone === 'string') {
    const Key = { pk: keys.phoneClaim(tombstone.releasingPhone) };
    await conditionalWrite(() => db.send(new DeleteCommand({ TableName: usersTableName, Key, ConditionExpression, ExpressionAttributeValues })));
  }
  return conditionalWrite(() =>
    db.send(
      new UpdateCommand({
        TableName: usersTableName,
        Key: { pk: tombstone.pk },
        UpdateExpression: 'SET dueAt = retainUntil REMOVE pendingOperation, releasingPhone',
        ConditionExpression,
        ExpressionAttributeValues,
      }),
    ),
  );
}

