import { randomUUID } from 'node:crypto';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Deadline } from '../../request-budget';
import type { PhoneNumber } from '../../domain/phone';
import type { CodePurpose, StoredCode } from '../../domain/verification-code';
import type { CodeProof, ErasureAttempt, ErasureOutcome, LinkAttempt, LinkOutcome, PhoneLinks, UnlinkAttempt, UnlinkOutcome, User } from '../../ports';
import { conditionalWrite } from './conditional-write';
import { keys } from './keys';
import { CLAIMING, finishErasure, OPERATION_LEASE_MS, PendingOperations, RELEASING, USER_MARKER } from './pending-operations';
import { codesTableOf, findUserWithCode, reportDrift, userAsRead, type ClaimDrift, type PhoneLinkTables, type RepairedDrift } from './phone-links-shared';

type Item = Record<string, unknown>;

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

/** How marking the user's current claim as releasing went: the claim's drift, if it was not the user's to mark. */
type ReleaseMark = 'marked' | 'conflict' | (RepairedDrift & { drift: ClaimDrift });

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
  private readonly pending: PendingOperations;
  private readonly newOperationId: () => string;
  private readonly wallClock: () => number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: PhoneLinkTables,
    options: { newOperationId?: () => string; wallClock?: () => number } = {},
  ) {
    this.pending = new PendingOperations(db, tables.usersTableName, OPERATION_LEASE_MS);
    this.newOperationId = options.newOperationId ?? randomUUID;
    this.wallClock = options.wallClock ?? Date.now;
  }

  findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }> {
    return findUserWithCode(this.db, this.tables, uid, code);
  }

  async linkPhone(attempt: LinkAttempt): Promise<LinkOutcome> {
    const { uid, phone, previousPhone } = attempt;
    const op = this.begin(attempt);
    const linkedAt = new Date(op.now).toISOString();
    const claimsPhone = previousPhone?.e164 !== phone.e164;
    const leaving = claimsPhone ? previousPhone : undefined;
    const drifts: RepairedDrift[] = [];
    const undo = new Undo();

    if (claimsPhone) {
      await this.inTime(op, undo);
      const claimed = await this.claim(uid, phone, linkedAt, op, drifts);
      if (claimed !== 'claimed') return claimed;
      undo.push(() => this.pending.dropClaim(phone.e164, op.id));
    }
    // The old claim once marked releasing: deleted after the commit.
    let released: PhoneNumber | undefined;
    if (leaving) {
      await this.inTime(op, undo);
      const mark = await this.markReleasing(uid, leaving, op);
      if (mark === 'conflict') return undo.run('conflict');
      if (mark === 'marked') {
        released = leaving;
        undo.push(() => this.pending.restoreClaim(leaving.e164, op.id));
      } else drifts.push(mark);
    }
    const marker = { claimingPhone: claimsPhone ? phone.e164 : undefined, releasingPhone: leaving?.e164 };
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
    if (released) await this.pending.deleteReleased(released.e164, op.id);
    if (claimsPhone) await this.pending.confirmClaim(phone.e164, op.id);
    for (const drift of drifts) reportDrift(drift);
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
    else reportDrift(released);
    return 'unlinked';
  }

  async eraseUser(attempt: ErasureAttempt): Promise<ErasureOutcome> {
    const { uid, phone } = attempt;
    const op = this.begin(attempt);
    const released = phone && (await this.markReleasing(uid, phone, op));
    if (released === 'conflict') return 'conflict';
    if (!phone || released !== 'marked') {
      if (!(await this.writeTombstone(attempt, op))) return 'conflict';
      if (typeof released === 'object') reportDrift(released);
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
  private async claim(uid: string, phone: PhoneNumber, linkedAt: string, op: Operation, drifts: RepairedDrift[]): Promise<'claimed' | 'phone-taken' | 'conflict'> {
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
        if (takeOver && takeOver.owner !== uid) drifts.push({ drift: 'claim-without-its-user', uid: takeOver.owner, phone });
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
      if (!current) return { drift: 'claim-missing', uid, phone };
      if (current.uid !== uid) return { drift: 'claim-of-another-user', uid, phone };
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
          TableName: codesTableOf(this.tables),
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
}

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
