import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LinkReconciler } from '../../functions/adapters/dynamodb/link-reconciler';
import { OperationOutOfTime, OrderedPhoneLinks } from '../../functions/adapters/dynamodb/ordered-phone-links';
import { OPERATION_LEASE_MS, PendingOperations } from '../../functions/adapters/dynamodb/pending-operations';
import { keys } from '../../functions/adapters/dynamodb/keys';
import { injectDynamoFault } from '../support/faults';
import { createHarness, jsonBody, type Answer, type Harness } from '../support/harness';
import { linkInvariantViolations, pendingMarkers } from '../support/invariants';

const DAY = 86_400_000;

/**
 * Ordered-writes mode after a crash: the request dies at each write in turn
 * (that write and every later call fail, as when the function is gone), and
 * one pass of the reconciler, once the lease is over, leaves the tables
 * whole: finished if the user's commit landed, rolled back if not.
 */
describe('LinkReconciler', () => {
  let h: Harness;
  let reconciler: LinkReconciler;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks: 'ordered-writes', env: { ERASED_USER_RETENTION_DAYS: '1' } });
    // Its own client: the faults are on the handlers' one.
    reconciler = new LinkReconciler(h.db, { usersTableName: h.tables.usersTableName, codesTableName: undefined });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  let serial = 0;
  const nextPhone = () => `1360${String(Date.now() % 10_000).padStart(4, '0')}${String(serial++ % 1000).padStart(3, '0')}`;

  interface Scenario {
    /** Prepares the request; answers what the user's phone is if the request commits, and if it does not. */
    prepare: () => Promise<{ request: () => Promise<Answer>; info: () => Promise<Answer>; committed: string | null; before: string | null }>;
    /** The DynamoDB calls that write, by number, and the one that commits. */
    writes: number[];
    commit: number;
  }

  const scenarios: Record<string, Scenario> = {
    'a first link': {
      writes: [2, 3, 4, 5, 6],
      commit: 5,
      prepare: async () => {
        const { token } = await h.newUser();
        const phone = nextPhone();
        const code = await h.codeFor(phone);
        return { request: () => h.link(token, { phone, code }), info: () => h.userInfo(token), committed: phone, before: null };
      },
    },
    'a move to another phone': {
      writes: [2, 3, 4, 5, 6, 7, 8],
      commit: 6,
      prepare: async () => {
        const { token } = await h.newUser();
        const [first, second] = [nextPhone(), nextPhone()];
        expect((await h.link(token, { phone: first, code: await h.codeFor(first) })).code).toBe(200);
        const code = await h.codeFor(second);
        return { request: () => h.link(token, { phone: second, code }), info: () => h.userInfo(token), committed: second, before: first };
      },
    },
    'an unlink': {
      writes: [3, 4, 5, 6, 7],
      commit: 6,
      prepare: async () => {
        const { token } = await h.newUser();
        const phone = nextPhone();
        expect((await h.link(token, { phone, code: await h.codeFor(phone) })).code).toBe(200);
        const code = await h.codeFor(phone, '86', '4');
        return { request: () => h.unlink(token, { code }), info: () => h.userInfo(token), committed: null, before: phone };
      },
    },
    'an admin link of a uid never seen': {
      writes: [2, 3, 4, 5],
      commit: 4,
      prepare: async () => {
        const uid = `admin-${serial++}-${Date.now()}`;
        const phone = nextPhone();
        const token = await h.tokenWithoutUser(uid);
        return { request: () => h.admin('PUT', uid, '/phone', jsonBody({ phone })), info: () => h.userInfo(token), committed: phone, before: null };
      },
    },
  };

  const crashes = Object.entries(scenarios).flatMap(([name, scenario]) => scenario.writes.map((call) => ({ name, call, commits: call > scenario.commit })));

  it.each(crashes)('$name, crashing at call $call: one reconciler pass leaves no marker and whole links', async ({ name, call, commits }) => {
    const { request, info, committed, before } = await scenarios[name]!.prepare();
    const fault = injectDynamoFault(h.app.db, { call, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await request()).status).toBe(500);
    fault.remove();
    const report = await reconciler.reconcile(h.clock.now() + OPERATION_LEASE_MS);
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect((await info()).data?.phone ?? null).toBe(commits ? committed : before);
    // The first write never landed: nothing was left for the reconciler.
    const settled = report.finished + report.rolledBack;
    expect(settled).toBe(call === scenarios[name]!.writes[0] ? 0 : 1);
    expect(report.finished).toBe(commits && settled ? 1 : 0);
  });

  it('an erasure crashing at each write: the reconciler finishes or undoes it', async () => {
    // Calls: read the user, mark the claim, mark the user, the tombstone (the commit), delete the claim, clear the tombstone's marker.
    for (const call of [2, 3, 4, 5, 6]) {
      const { uid, token } = await h.newUser();
      const phone = nextPhone();
      expect((await h.link(token, { phone, code: await h.codeFor(phone) })).code).toBe(200);
      const fault = injectDynamoFault(h.app.db, { call, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
      expect((await h.admin('DELETE', uid)).status).toBe(500);
      fault.remove();
      await reconciler.reconcile(h.clock.now() + OPERATION_LEASE_MS);
      expect(await pendingMarkers(h)).toEqual([]);
      expect(await linkInvariantViolations(h)).toEqual([]);
      expect((await h.userInfo(token)).code).toBe(call > 4 ? 5033 : 200);
    }
  });

  it('leaves an operation alone while its lease runs, then rolls it back', async () => {
    const { token } = await h.newUser();
    const phone = nextPhone();
    const code = await h.codeFor(phone);
    // Crash after the user is marked (calls: read, claim, mark user | consume).
    const fault = injectDynamoFault(h.app.db, { call: 4, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await h.link(token, { phone, code })).status).toBe(500);
    fault.remove();
    expect(await reconciler.reconcile(h.clock.now() + OPERATION_LEASE_MS - 1)).toEqual({ finished: 0, rolledBack: 0, tombstonesRemoved: 0, failed: 0, complete: true });
    expect((await pendingMarkers(h)).map((item) => String(item.pk).split('#')[0]).sort()).toEqual(['PHONE', 'USER']);
    expect(await reconciler.reconcile(h.clock.now() + OPERATION_LEASE_MS)).toEqual({ finished: 0, rolledBack: 1, tombstonesRemoved: 0, failed: 0, complete: true });
    expect(await pendingMarkers(h)).toEqual([]);
    // The code was not consumed: it still links.
    expect((await h.link(token, { phone, code })).code).toBe(200);
  });

  it('a request meeting an expired marker recovers it itself: the crashed user links again, another user takes the phone', async () => {
    const crashed = await h.newUser();
    const phone = nextPhone();
    // The crash comes before the code is consumed, so the newcomer can hold the same code.
    const code = await h.codeFor(phone);
    const fault = injectDynamoFault(h.app.db, { call: 4, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await h.link(crashed.token, { phone, code })).status).toBe(500);
    fault.remove();
    // Within the lease the phone is the crashed link's: refused, nothing consumed.
    const newcomer = await h.newUser();
    expect((await h.link(newcomer.token, { phone, code })).code).toBe(5002);
    h.clock.advance(OPERATION_LEASE_MS);
    expect((await h.link(newcomer.token, { phone, code })).code).toBe(200);
    const other = nextPhone();
    expect((await h.link(crashed.token, { phone: other, code: await h.codeFor(other) })).code).toBe(200);
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('settling an expired claim rolls its user back first, so that a late commit of the crashed request cannot land', async () => {
    const { uid, token } = await h.newUser();
    const phone = nextPhone();
    const code = await h.codeFor(phone);
    const fault = injectDynamoFault(h.app.db, { call: 4, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await h.link(token, { phone, code })).status).toBe(500);
    fault.remove();
    const pending = new PendingOperations(h.db, h.tables.usersTableName, OPERATION_LEASE_MS);
    const claim = (await pending.read(keys.phoneClaim(`+86${phone}`)))!;
    expect(await pending.settleClaim(claim, h.clock.now() + OPERATION_LEASE_MS)).toBe('rolled-back');
    expect(await pending.read(keys.user(uid))).toEqual({ pk: keys.user(uid), uid, createdAt: expect.any(String) });
    expect(await pendingMarkers(h)).toEqual([]);
  });

  it('settling an expired claim whose operation commits meanwhile finishes it: the claim never goes from under a user who holds the phone', async () => {
    const { uid, token } = await h.newUser();
    const phone = nextPhone();
    const e164 = `+86${phone}`;
    const code = await h.codeFor(phone);
    // Dies at its commit (call 5): the user marked, the code consumed, the claim pending.
    const fault = injectDynamoFault(h.app.db, { call: 5, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await h.link(token, { phone, code })).status).toBe(500);
    fault.remove();
    const claim = (await new PendingOperations(h.db, h.tables.usersTableName, OPERATION_LEASE_MS).read(keys.phoneClaim(e164)))!;
    const operation = String(claim.pendingOperation);
    // A frozen request's commit lands right after the settler has read the user still marked.
    let landed = false;
    const commitAfterOwnerRead: Pick<typeof h.db, 'send'> = {
      send: (async (command: { input: { Key?: { pk?: string } } }) => {
        const answer = await h.db.send(command as never);
        if (!landed && command instanceof GetCommand && command.input.Key?.pk === keys.user(uid)) {
          landed = true;
          await h.db.send(
            new UpdateCommand({
              TableName: h.tables.usersTableName,
              Key: { pk: keys.user(uid) },
              UpdateExpression:
                'SET phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, lastOperation = :operation REMOVE pendingOperation, claimingPhone, dueShard, dueAt',
              ConditionExpression: 'pendingOperation = :operation',
              ExpressionAttributeValues: { ':phone': e164, ':callingCode': '86', ':nationalNumber': phone, ':operation': operation },
            }),
          );
        }
        return answer;
      }) as typeof h.db.send,
    };
    const settler = new PendingOperations(commitAfterOwnerRead as typeof h.db, h.tables.usersTableName, OPERATION_LEASE_MS);
    expect(await settler.settleClaim(claim, h.clock.now() + OPERATION_LEASE_MS)).toBe('finished');
    expect(landed).toBe(true);
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect((await h.userInfo(token)).data).toMatchObject({ phone });
  });

  it('an operation resumed past its budget (a function frozen and thawed) undoes what it did and changes nothing more', async () => {
    const { uid } = await h.newUser();
    const phone = { e164: `+86${nextPhone()}`, callingCode: '86', nationalNumber: '' };
    let wallClock = Date.now();
    // The claim is written, then the function freezes for a minute and thaws: the wall clock has moved on.
    const freezeAfterClaim: Pick<typeof h.db, 'send'> = {
      send: (async (command: unknown) => {
        const answer = await h.db.send(command as never);
        if (command instanceof PutCommand && String(command.input.Item?.pk).startsWith('PHONE#')) wallClock += 61_000;
        return answer;
      }) as typeof h.db.send,
    };
    const links = new OrderedPhoneLinks(freezeAfterClaim as typeof h.db, { usersTableName: h.tables.usersTableName, codesTableName: undefined }, { wallClock: () => wallClock });
    const before = await h.snapshot();
    await expect(links.linkPhone({ uid, isNewUser: false, previousPhone: undefined, phone, proof: undefined, now: h.clock.now() })).rejects.toThrow(OperationOutOfTime);
    expect(await h.snapshot()).toEqual(before);
  });

  it('a user registered while their first link is in flight stays registered when that link is rolled back', async () => {
    const uid = `first-use-${serial++}-${Date.now()}`;
    const token = await h.tokenWithoutUser(uid);
    const phone = nextPhone();
    const code = await h.codeFor(phone);
    // Dies at the code (call 4): the new user's record exists only as the link's, pending.
    const fault = injectDynamoFault(h.app.db, { call: 4, untilCall: 1_000, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect((await h.link(token, { phone, code })).status).toBe(500);
    fault.remove();
    expect(await h.admin('PUT', uid)).toMatchObject({ code: 200, data: { exists: true, phone: null } });
    await reconciler.reconcile(h.clock.now() + OPERATION_LEASE_MS);
    expect(await h.admin('GET', uid)).toMatchObject({ code: 200, data: { exists: true, phone: null } });
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('deletes tombstones once their retention passed, and only those', async () => {
    const erased = await h.erasedUser();
    const registeredAgain = await h.erasedUser();
    await h.admin('PUT', registeredAgain.uid);
    const erasedAt = h.clock.now();
    // Older tombstones of this suite go in the first pass; this one is kept until its very end.
    await reconciler.reconcile(erasedAt + DAY - 1);
    expect((await h.snapshot()).users.find((item) => item.pk === keys.user(erased.uid))).toMatchObject({ erasedAt: expect.any(String) });
    expect(await reconciler.reconcile(erasedAt + DAY)).toMatchObject({ tombstonesRemoved: 1 });
    const { users } = await h.snapshot();
    expect(users.find((item) => item.pk === keys.user(erased.uid))).toBeUndefined();
    expect(users.find((item) => item.pk === keys.user(registeredAgain.uid))).toMatchObject({ uid: registeredAgain.uid });
    expect((await h.userInfo(erased.token)).data).toMatchObject({ uid: erased.uid, phone: null });
  });

  it('the scheduled entry runs one pass from its environment and reports it', async () => {
    const uid = `expired-${Date.now()}`;
    const pk = keys.user(uid);
    const retainUntil = Date.now() - 1;
    await h.db.send(
      new PutCommand({ TableName: h.tables.usersTableName, Item: { pk, uid, erasedAt: new Date(0).toISOString(), retainUntil, dueShard: keys.dueShard(pk), dueAt: retainUntil } }),
    );
    process.env.USERS_TABLE_NAME = h.tables.usersTableName;
    const { handler } = await import('../../functions/entry/reconcile-links');
    // Lambda's context: with no time left, the pass stops before its first item, and the next run does it.
    expect(await handler({}, { getRemainingTimeInMillis: () => 0 })).toMatchObject({ tombstonesRemoved: 0, complete: false });
    expect((await h.snapshot()).users.find((item) => item.pk === pk)).toBeDefined();
    expect(await handler({}, { getRemainingTimeInMillis: () => 9_000 })).toMatchObject({ tombstonesRemoved: 1, failed: 0, complete: true });
    expect((await h.snapshot()).users.find((item) => item.pk === pk)).toBeUndefined();
  });
});
