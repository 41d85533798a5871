import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Deadline } from '../../request-budget';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import { count, logger, maskPhone } from '../../observability';
import type { CodeProof, ErasureAttempt, ErasureOutcome, LinkAttempt, LinkOutcome, PhoneLinks, UnlinkAttempt, UnlinkOutcome, User } from '../../ports';
import { conditionalWrite } from './conditional-write';
import { keys } from './keys';
import { DynamoPhoneLinks, type PhoneLinkTables } from './phone-links';
import { finishErasure, isSettlingTombstone } from './users';

/**
 * How long an operation may stay pending before another request or the
 * reconciler may roll it back: far longer than any function runs, so only a
 * crashed operation is ever rolled back.
 */
export const OPERATION_LEASE_MS = 60_000;

type Item = Record<string, unknown>;

/** What a pending claim is in the middle of: being taken by its uid, or given up by it. */
const CLAIMING = 'claim';
const RELEASING = 'release';

/** The attributes a pending operation puts on the user, all removed by its commit or its rollback. */
const USER_MARKER = 'pendingOperation, claimingPhone, releasingPhone, pendingCreate, dueShard, dueAt';
/** The attributes a pending operation puts on a claim; its confirmation leaves `lastOperation`, the operation that made it. */
const CLAIM_MARKER = 'pendingOperation, pendingAction, dueShard, dueAt';

/** One link, unlink or erasure: its id goes into every write's condition, so a retried write recognises itself. */
interface Operation {
  readonly id: string;
  /** The request's time: the markers' `dueAt`. */
  readonly now: number;
  /**
   * The request's. A step that would change anything starts only before
   * it: past it, middy has answered 500, and Lambda may freeze the function
   * mid-operation and thaw it minutes later, after the operation was rolled
   * back as crashed.
   */
  readonly deadline: Deadline;
}

/** A step of an operation found its time over: what it did so far is undone, and the request answers 500. */
export class OperationOutOfTime extends Error {
  constructor(operation: string) {
    super(`operation ${operation} ran past the request's budget: rolled back`);
    this.name = 'OperationOutOfTime';
  }
}

type Drift = 'claim-missing' | 'claim-of-another-user' | 'claim-without-its-user';

/** How marking the user's current claim as releasing went: the claim's drift, if it was not the user's to mark. */
type ReleaseMark = 'marked' | 'conflict' | Exclude<Drift, 'claim-without-its-user'>;

/**
 * Phone links on a multi-Region strongly consistent global table, which
 * refuses transactions: ordered conditional writes with compensation. A
 * link claims the phone first (where uniqueness is decided, so a 5002
 * consumes nothing), marks the user's old claim as releasing, marks the
 * user with the operation, consumes the code, commits the user, then
 * deletes the old claim and confirms the new one. An erasure marks the
 * claim releasing and the user, and commits with a tombstone that keeps the
 * operation until the claim is deleted. A failed step undoes the ones
 * before it; a crash leaves markers that the next request meeting them or
 * the LinkReconciler settles (see PendingOperations).
 */
export class OrderedPhoneLinks implements PhoneLinks {
  private readonly reads: DynamoPhoneLinks;
  private readonly pending: PendingOperations;
  private readonly newOperationId: () => string;
  private readonly wallClock: () => number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: PhoneLinkTables,
    options: { newOperationId?: () => string; wallClock?: () => number } = {},
  ) {
    // Its reads (GetItem, BatchGetItem with ConsistentRead) are allowed on a multi-Region table.
    this.reads = new DynamoPhoneLinks(db, tables);
    this.pending = new PendingOperations(db, tables.usersTableName, OPERATION_LEASE_MS);
    this.newOperationId = options.newOperationId ?? randomUUID;
    this.wallClock = options.wallClock ?? Date.now;
  }

  findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
    return this.reads.findUserWithCode(uid, code);
  }

  async linkPhone(attempt: LinkAttempt): Promise<LinkOutcome> {
    const { uid, phone, previousPhone } = attempt;
    const op = this.begin(attempt);
    const linkedAt = new Date(op.now).toISOString();
    const claimsPhone = previousPhone?.e164 !== phone.e164;
    const movesAway = previousPhone !== undefined && claimsPhone;
    const drifts: Drift[] = [];
    const undo = new Undo();

    if (claimsPhone) {
      await this.inTime(op, undo);
      const claimed = await this.claim(uid, phone, linkedAt, op, drifts);
      if (claimed !== 'claimed') return claimed;
      undo.push(() => this.pending.dropClaim(phone.e164, op.id));
    }
    let released: ReleaseMark | undefined;
    if (movesAway) {
      await this.inTime(op, undo);
      released = await this.markReleasing(uid, previousPhone, op);
      if (released === 'conflict') return undo.run('conflict');
      if (released === 'marked') undo.push(() => this.pending.restoreClaim(previousPhone.e164, op.id));
      else drifts.push(released);
    }
    const marker = { claimingPhone: claimsPhone ? phone.e164 : undefined, releasingPhone: movesAway ? previousPhone.e164 : undefined };
    await this.inTime(op, undo);
    if (!(await this.markUser(uid, attempt.isNewUser, previousPhone, marker, op))) return undo.run('conflict');
    undo.push(() => this.pending.rollBackUser(keys.user(uid), op.id, attempt.isNewUser));
    if (attempt.proof) {
      await this.inTime(op, undo);
      if (!(await this.consumeCode(phone, attempt.proof, op))) return undo.run('code-rejected');
    }

    await this.commitUser(uid, op, undo, {
      UpdateExpression:
        'SET phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, phoneLinkedAt = :linkedAt, ' +
        `createdAt = if_not_exists(createdAt, :linkedAt), lastOperation = :operation REMOVE ${USER_MARKER}`,
      ExpressionAttributeValues: { ':phone': phone.e164, ':callingCode': phone.callingCode, ':nationalNumber': phone.nationalNumber, ':linkedAt': linkedAt },
    });
    if (released === 'marked') await this.pending.deleteReleased(previousPhone!.e164, op.id);
    if (claimsPhone) await this.pending.confirmClaim(phone.e164, op.id);
    for (const drift of drifts) reportDrift(drift, drift === 'claim-without-its-user' ? phone : previousPhone!, uid);
    return 'linked';
  }

  async unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome> {
    const { uid, phone } = attempt;
    const op = this.begin(attempt);
    const undo = new Undo();
    const released = await this.markReleasing(uid, phone, op);
    if (released === 'conflict') return 'conflict';
    if (released === 'marked') undo.push(() => this.pending.restoreClaim(phone.e164, op.id));
    await this.inTime(op, undo);
    if (!(await this.markUser(uid, false, phone, { releasingPhone: phone.e164 }, op))) return undo.run('conflict');
    undo.push(() => this.pending.rollBackUser(keys.user(uid), op.id, false));
    await this.inTime(op, undo);
    if (!(await this.consumeCode(phone, attempt.proof, op))) return undo.run('code-rejected');

    await this.commitUser(uid, op, undo, {
      UpdateExpression: `SET lastOperation = :operation REMOVE phone, callingCode, nationalNumber, phoneLinkedAt, ${USER_MARKER}`,
      ExpressionAttributeValues: {},
    });
    if (released === 'marked') await this.pending.deleteReleased(phone.e164, op.id);
    else reportDrift(released, phone, uid);
    return 'unlinked';
  }

  async eraseUser(attempt: ErasureAttempt): Promise<ErasureOutcome> {
    const { uid, phone } = attempt;
    const op = this.begin(attempt);
    const released = phone && (await this.markReleasing(uid, phone, op));
    if (released === 'conflict') return 'conflict';
    if (!phone || released !== 'marked') {
      if (!(await this.writeTombstone(attempt, op))) return 'conflict';
      if (phone && released && released !== 'marked') reportDrift(released, phone, uid);
      return 'erased';
    }

    const undo = new Undo();
    undo.push(() => this.pending.restoreClaim(phone.e164, op.id));
    await this.inTime(op, undo);
    if (!(await this.markUser(uid, false, phone, { releasingPhone: phone.e164 }, op))) return undo.run('conflict');
    undo.push(() => this.pending.rollBackUser(keys.user(uid), op.id, false));
    await this.inTime(op, undo);
    const tombstone = { ...this.tombstoneOf(attempt, op), pendingOperation: op.id, releasingPhone: phone.e164, dueAt: op.now };
    // The commit, fenced by the user's mark as a link's is: an erasure rolled back while its function was frozen cannot land after.
    const committed = await conditionalWrite(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tables.usersTableName,
          Item: tombstone,
          ConditionExpression: 'pendingOperation = :operation',
          ExpressionAttributeValues: { ':operation': op.id },
        }),
      ),
      op.deadline,
    );
    // Finished or rolled back by someone else meanwhile (the mark is gone either way): the undo finds nothing of its own left, and the caller reads again.
    if (!committed) return undo.run('conflict');
    await finishErasure(this.db, this.tables.usersTableName, tombstone);
    return 'erased';
  }

  /** An erased user's record: no TTL on a multi-Region table, the reconciler deletes it once `retainUntil` passed. */
  private tombstoneOf(attempt: ErasureAttempt, op: Operation): Item {
    const pk = keys.user(attempt.uid);
    return { pk, uid: attempt.uid, erasedAt: new Date(op.now).toISOString(), retainUntil: attempt.retainUntil, lastOperation: op.id, dueShard: keys.dueShard(pk), dueAt: attempt.retainUntil };
  }

  /**
   * An erasure that has no claim to release (no phone, or drift left the
   * claim missing or another's): the tombstone alone, over the user as
   * read, or over its own first attempt.
   */
  private async writeTombstone(attempt: ErasureAttempt, op: Operation): Promise<boolean> {
    const { isNewUser, phone } = attempt;
    await this.inTime(op, new Undo());
    const written = await conditionalWrite(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tables.usersTableName,
          Item: this.tombstoneOf(attempt, op),
          ConditionExpression: `(${userAsRead(isNewUser, phone)} AND attribute_not_exists(pendingOperation)) OR (lastOperation = :operation AND attribute_exists(erasedAt))`,
          ExpressionAttributeValues: { ':operation': op.id, ...(phone ? { ':previousPhone': phone.e164 } : {}) },
        }),
      ),
      op.deadline,
    );
    if (written) return true;
    // Changed since it was read; an operation left on it by a crash is settled, so that the caller's next read finds it done.
    const user = await this.pending.read(keys.user(attempt.uid));
    if (typeof user?.pendingOperation === 'string') await this.pending.settleUser(user, op.now);
    return false;
  }

  private begin(attempt: { now: number; deadline?: Deadline }): Operation {
    return { id: this.newOperationId(), now: attempt.now, deadline: attempt.deadline ?? Deadline.fullBudgetFromNow(this.wallClock) };
  }

  /** Before each step that moves an operation forward: past the request's deadline, undo what it did and give up. */
  private async inTime(op: Operation, undo: Undo): Promise<void> {
    if (op.deadline.msLeft() >= 0) return;
    await undo.run(undefined);
    throw new OperationOutOfTime(op.id);
  }

  /**
   * Step 1 of a link: claims the phone, pending with the operation. A claim
   * of another user stands ('phone-taken') unless it is left over: a pending
   * one whose operation is done or expired is settled first, a confirmed
   * one whose user does not hold the phone (drift) is taken over.
   */
  private async claim(uid: string, phone: PhoneNumber, linkedAt: string, op: Operation, drifts: Drift[]): Promise<'claimed' | 'phone-taken' | 'conflict'> {
    const pk = keys.phoneClaim(phone.e164);
    let takeOver: { owner: string; condition: string; values: Item } | undefined;
    for (let pass = 1; pass <= 3; pass++) {
      const written = await conditionalWrite(() =>
        this.db.send(
          new PutCommand({
            TableName: this.tables.usersTableName,
            Item: { pk, uid, linkedAt, pendingOperation: op.id, pendingAction: CLAIMING, dueShard: keys.dueShard(pk), dueAt: op.now },
            ConditionExpression: `pendingOperation = :operation OR ${takeOver ? `(${takeOver.condition})` : 'attribute_not_exists(pk)'}`,
            ExpressionAttributeValues: { ':operation': op.id, ...takeOver?.values },
          }),
        ),
        op.deadline,
      );
      if (written) {
        if (takeOver && takeOver.owner !== uid) drifts.push('claim-without-its-user');
        return 'claimed';
      }
      const current = await this.pending.read(pk);
      takeOver = undefined;
      if (!current) continue;
      const owner = String(current.uid);
      if (typeof current.pendingAction === 'string') {
        if ((await this.pending.settleClaim(current, op.now)) === 'in-flight') return owner === uid ? 'conflict' : 'phone-taken';
        continue;
      }
      if (await this.pending.holds(owner, phone.e164)) return owner === uid ? 'conflict' : 'phone-taken';
      takeOver = { owner, ...claimAsRead(current) };
    }
    return 'conflict';
  }

  /** Marks the user's claim on its phone as releasing; a claim missing or of another user (drift) is left as it is. */
  private async markReleasing(uid: string, phone: PhoneNumber, op: Operation): Promise<ReleaseMark> {
    const pk = keys.phoneClaim(phone.e164);
    for (let pass = 1; pass <= 3; pass++) {
      const written = await conditionalWrite(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.usersTableName,
            Key: { pk },
            UpdateExpression: 'SET pendingOperation = :operation, pendingAction = :releasing, dueShard = :dueShard, dueAt = :dueAt',
            ConditionExpression: '(uid = :uid AND attribute_not_exists(pendingAction)) OR (pendingOperation = :operation AND pendingAction = :releasing)',
            ExpressionAttributeValues: { ':operation': op.id, ':releasing': RELEASING, ':uid': uid, ':dueShard': keys.dueShard(pk), ':dueAt': op.now },
          }),
        ),
        op.deadline,
      );
      if (written) return 'marked';
      const current = await this.pending.read(pk);
      if (!current) return 'claim-missing';
      if (current.uid !== uid) return 'claim-of-another-user';
      if ((await this.pending.settleClaim(current, op.now)) === 'in-flight') return 'conflict';
    }
    return 'conflict';
  }

  /**
   * Marks the user, as read, with the operation: the user's other
   * operations wait for it, and a link's phone stays out of `phone` until
   * the commit. Another operation of the user holding the mark is rolled
   * back if it expired; if it still runs, this one gives way ('conflict').
   */
  private async markUser(
    uid: string,
    isNewUser: boolean,
    previousPhone: PhoneNumber | undefined,
    marker: { claimingPhone?: string; releasingPhone?: string },
    op: Operation,
  ): Promise<boolean> {
    const pk = keys.user(uid);
    const sets = ['uid = :uid', 'pendingOperation = :operation', 'dueShard = :dueShard', 'dueAt = :dueAt'];
    if (marker.claimingPhone) sets.push('claimingPhone = :claimingPhone');
    if (marker.releasingPhone) sets.push('releasingPhone = :releasingPhone');
    if (isNewUser) sets.push('pendingCreate = :true');
    // A second pass only after rolling back an expired operation that held the mark.
    for (let pass = 1; pass <= 3; pass++) {
      const written = await conditionalWrite(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.usersTableName,
            Key: { pk },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `(${userAsRead(isNewUser, previousPhone)} AND attribute_not_exists(pendingOperation)) OR pendingOperation = :operation`,
            ExpressionAttributeValues: {
              ':uid': uid,
              ':operation': op.id,
              ':dueShard': keys.dueShard(pk),
              ':dueAt': op.now,
              ...(marker.claimingPhone ? { ':claimingPhone': marker.claimingPhone } : {}),
              ...(marker.releasingPhone ? { ':releasingPhone': marker.releasingPhone } : {}),
              ...(isNewUser ? { ':true': true } : {}),
              ...(previousPhone ? { ':previousPhone': previousPhone.e164 } : {}),
            },
          }),
        ),
        op.deadline,
      );
      if (written) return true;
      const user = await this.pending.read(pk);
      if (typeof user?.pendingOperation !== 'string') return false;
      // Another operation of the user's still runs (or crashed within its lease): the caller reads again, within its budget.
      if ((await this.pending.settleUser(user, op.now)) === 'in-flight') return false;
    }
    return false;
  }

  /** Uses up the code if it is still the one judged; marked with the operation, so a retry of this very write recognises itself. */
  private consumeCode(phone: PhoneNumber, proof: CodeProof, op: Operation): Promise<boolean> {
    return conditionalWrite(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.codesTableName(),
          Key: { pk: keys.code(proof.purpose, phone.e164) },
          UpdateExpression: 'SET consumedAt = :now, consumedBy = :operation REMOVE codeHash',
          ConditionExpression: '(codeHash = :hash AND expiresAt > :now AND wrongTries < :maxWrongTries) OR consumedBy = :operation',
          ExpressionAttributeValues: { ':hash': proof.codeHash, ':now': op.now, ':maxWrongTries': proof.maxWrongTries, ':operation': op.id },
        }),
      ),
      op.deadline,
    );
  }

  /**
   * The user's commit, the point after which the operation is finished
   * rather than rolled back; only within the request's budget.
   */
  private async commitUser(uid: string, op: Operation, undo: Undo, change: { UpdateExpression: string; ExpressionAttributeValues: Item }): Promise<void> {
    await this.inTime(op, undo);
    const pk = keys.user(uid);
    const written = await conditionalWrite(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.usersTableName,
          Key: { pk },
          UpdateExpression: change.UpdateExpression,
          ConditionExpression: 'pendingOperation = :operation',
          ExpressionAttributeValues: { ...change.ExpressionAttributeValues, ':operation': op.id },
        }),
      ),
      op.deadline,
    );
    if (written || (await this.pending.read(pk))?.lastOperation === op.id) return;
    // Rolled back by someone else: the code may be used up, and the outcome is for the caller to learn by reading.
    throw new Error(`operation ${op.id} was rolled back before its commit`);
  }

  private codesTableName(): string {
    const name = this.tables.codesTableName;
    if (name === undefined) throw new Error('OrderedPhoneLinks was given no codes table: it cannot consume a code');
    return name;
  }
}

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

/** Undo steps, run newest first. */
class Undo {
  private readonly steps: (() => Promise<unknown>)[] = [];
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run<T>(outcome: T): Promise<T> {
    for (const step of this.steps.reverse()) await step();
    return outcome;
  }
}

/** A claim is taken over only as it was read: a link by its owner meanwhile changes its `lastOperation` and stops the take-over. */
function claimAsRead(claim: Item): { condition: string; values: Item } {
  const values: Item = { ':staleOwner': claim.uid };
  const parts = ['uid = :staleOwner', 'attribute_not_exists(pendingAction)'];
  if (claim.lastOperation !== undefined) {
    parts.push('lastOperation = :readOperation');
    values[':readOperation'] = claim.lastOperation;
  } else {
    // Written by the transactional mode or by hand: no operation id to go by.
    parts.push('attribute_not_exists(lastOperation)');
    if (claim.linkedAt !== undefined) {
      parts.push('linkedAt = :readLinkedAt');
      values[':readLinkedAt'] = claim.linkedAt;
    }
  }
  return { condition: parts.join(' AND '), values };
}

/** The condition that a user is still as it was read: new (no record), without a phone, or with that phone. */
const userAsRead = (isNewUser: boolean, phone: PhoneNumber | undefined): string =>
  isNewUser
    ? 'attribute_not_exists(pk)'
    : phone
      ? 'phone = :previousPhone'
      : '(attribute_exists(pk) AND attribute_not_exists(phone) AND attribute_not_exists(erasedAt))';

/** As the transactional mode reports it (docs/API.md, drift): a warning and a metric. */
function reportDrift(drift: Drift, phone: PhoneNumber, uid: string): void {
  logger.warn('Data drift repaired', { drift, uid, phone: maskPhone(phone.e164) });
  count('DataDriftRepaired');
}
