import { ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { CLIENT_SETTINGS } from '../../functions/adapters/aws/client-config';
import { injectDynamoFault, recordCalls } from '../support/faults';
import { createHarness, jsonBody, PHONE, type Harness } from '../support/harness';
import { linkInvariantViolations, pendingMarkers } from '../support/invariants';

/**
 * OrderedPhoneLinks (PHONE_LINKS_MODE=ordered-writes) through the real
 * handlers on DynamoDB Local, the users table shaped as the multi-Region one:
 * the contract as in transactions mode, the faults that apply, and the
 * path's own DynamoDB calls. Its races run in both modes in
 * concurrency.test.ts, users.test.ts ("erasure racing") and data-drift.test.ts.
 */

const internalError = { status: 500, code: 500, msg: 'Internal server error', extMsg: '', data: null };

describe('ordered writes: the contract', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks: 'ordered-writes', env: { ERASED_USER_RETENTION_DAYS: '7' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  it('links, moves to another phone (the old claim released), relinks the same phone and unlinks, leaving no marker', async () => {
    const user = await h.newUser();
    expect(await h.link(user.token, { phone: '13800138201', code: await h.codeFor('13800138201') })).toMatchObject({ code: 200 });
    expect(await h.link(user.token, { phone: '13800138202', code: await h.codeFor('13800138202') })).toMatchObject({ code: 200 });
    h.clock.advance(61_000);
    expect(await h.link(user.token, { phone: '13800138202', code: await h.codeFor('13800138202') })).toMatchObject({ code: 200 });
    const { users } = await h.snapshot();
    expect(users.filter((item) => String(item.pk).startsWith('PHONE#')).map((item) => item.pk)).toEqual(['PHONE#+8613800138202']);
    expect((await h.userInfo(user.token)).data).toMatchObject({ phone: '13800138202' });
    expect(await h.unlink(user.token, { code: await h.codeFor('13800138202', '86', '4') })).toMatchObject({ code: 200 });
    expect((await h.userInfo(user.token)).data).toMatchObject({ phone: null });
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('a 5002 consumes nothing: the owner links with the same code afterwards', async () => {
    const owner = await h.newUser();
    await h.link(owner.token, { phone: '13800138203', code: await h.codeFor('13800138203') });
    h.clock.advance(61_000);
    const code = await h.codeFor('13800138203');
    const before = await h.snapshot();
    expect(await h.link((await h.newUser()).token, { phone: '13800138203', code })).toMatchObject({ code: 5002 });
    expect((await h.snapshot()).codes).toEqual(before.codes);
    expect(await h.link(owner.token, { phone: '13800138203', code })).toMatchObject({ code: 200 });
    expect(await pendingMarkers(h)).toEqual([]);
  });

  it('a code changed since it was judged is code-rejected, and the claim and the mark it made are undone', async () => {
    const user = await h.newUser();
    const code = await h.codeFor('13800138204');
    const outcome = await h.app.links.linkPhone({
      uid: user.uid,
      isNewUser: false,
      previousPhone: undefined,
      phone: { e164: '+8613800138204', callingCode: '86', nationalNumber: '13800138204' },
      proof: { purpose: 'link', codeHash: 'not-the-stored-one', maxWrongTries: 5 },
      now: h.clock.now(),
    });
    expect(outcome).toBe('code-rejected');
    const { users } = await h.snapshot();
    expect(users.some((item) => item.pk === 'PHONE#+8613800138204')).toBe(false);
    expect(users.find((item) => item.pk === `USER#${user.uid}`)).toEqual({ pk: `USER#${user.uid}`, uid: user.uid, createdAt: expect.any(String) });
    // The stored code was not touched: it still links.
    expect(await h.link(user.token, { phone: '13800138204', code })).toMatchObject({ code: 200 });
    expect(await pendingMarkers(h)).toEqual([]);
  });

  it('a first link of a uid never seen creates the user; a refused one leaves no record behind', async () => {
    const uid = `first-${Date.now()}`;
    const refused = await h.app.links.linkPhone({
      uid,
      isNewUser: true,
      previousPhone: undefined,
      phone: { e164: '+8613800138205', callingCode: '86', nationalNumber: '13800138205' },
      proof: { purpose: 'link', codeHash: 'none', maxWrongTries: 5 },
      now: h.clock.now(),
    });
    expect(refused).toBe('code-rejected');
    expect((await h.snapshot()).users.filter((item) => String(item.pk).includes(uid) || String(item.pk).includes('13800138205'))).toEqual([]);
    const token = await h.tokenWithoutUser(uid);
    expect(await h.link(token, { phone: '13800138205', code: await h.codeFor('13800138205') })).toMatchObject({ code: 200 });
    expect((await h.userInfo(token)).data).toMatchObject({ uid, phone: '13800138205' });
  });

  it('erasure leaves a tombstone with no TTL, kept until retainUntil and found through the due index', async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: '13800138206', code: await h.codeFor('13800138206') });
    expect(await h.admin('DELETE', user.uid)).toMatchObject({ code: 200 });
    const erasedAt = h.clock.now();
    const { users } = await h.snapshot();
    expect(users.filter((item) => String(item.pk).includes('13800138206'))).toEqual([]);
    const tombstone = users.find((item) => item.pk === `USER#${user.uid}`);
    expect(tombstone).toEqual({
      pk: `USER#${user.uid}`,
      uid: user.uid,
      erasedAt: new Date(erasedAt).toISOString(),
      retainUntil: erasedAt + 7 * 86_400_000,
      dueAt: erasedAt + 7 * 86_400_000,
      dueShard: expect.stringMatching(/^DUE#\d$/),
      lastOperation: expect.any(String),
    });
    expect(await h.userInfo(user.token)).toMatchObject({ code: 5033 });
    expect(await h.admin('PUT', user.uid)).toMatchObject({ code: 200, data: { exists: true, phone: null } });
  });

  it('the admin link claims, moves and answers alreadyLinked as in transactions mode', async () => {
    const uid = `admin-${Date.now()}`;
    expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138207' }))).toMatchObject({ code: 200, data: { alreadyLinked: false } });
    expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138207' }))).toMatchObject({ code: 200, data: { alreadyLinked: true } });
    expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138208' }))).toMatchObject({ code: 200, data: { alreadyLinked: false } });
    expect(await h.admin('PUT', `other-${uid}`, '/phone', jsonBody({ phone: '13800138208' }))).toMatchObject({ code: 5002 });
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('a claim whose user does not hold the phone (drift) is taken over by a link', async () => {
    await h.db.send(new PutCommand({ TableName: h.tables.usersTableName, Item: { pk: 'PHONE#+8613800138209', uid: 'ghost', linkedAt: '2020-01-01T00:00:00.000Z' } }));
    const newcomer = await h.newUser();
    expect(await h.link(newcomer.token, { phone: '13800138209', code: await h.codeFor('13800138209') })).toMatchObject({ code: 200 });
    expect(await linkInvariantViolations(h)).toEqual([]);
  });
});

describe('ordered writes: DynamoDB calls and faults', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness({ phoneLinks: 'ordered-writes' });
  });
  afterEach(() => h.close());

  const counting = async (run: () => Promise<unknown>): Promise<string[]> => {
    const recorder = recordCalls(h.app.db);
    await run();
    recorder.stop();
    return recorder.operations;
  };

  it('a link: the reads, then claim, mark the user, consume the code, commit, confirm; a move adds the old claim', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    expect(await counting(() => h.link(token, { phone: PHONE, code }))).toEqual(['BatchGetItem', 'PutItem', 'UpdateItem', 'UpdateItem', 'UpdateItem', 'UpdateItem']);
    const other = await h.codeFor('13800138210');
    expect(await counting(() => h.link(token, { phone: '13800138210', code: other }))).toEqual([
      'BatchGetItem',
      'PutItem', // claim the new phone
      'UpdateItem', // mark the old claim releasing
      'UpdateItem', // mark the user
      'UpdateItem', // consume the code
      'UpdateItem', // commit the user
      'DeleteItem', // delete the old claim
      'UpdateItem', // confirm the new claim
    ]);
  });

  it('an unlink and an erasure: their own calls, no transaction', async () => {
    const { uid, token } = await h.newUser();
    await h.link(token, { phone: PHONE, code: await h.codeFor() });
    const code = await h.codeFor(PHONE, '86', '4');
    expect(await counting(() => h.unlink(token, { code }))).toEqual(['GetItem', 'GetItem', 'UpdateItem', 'UpdateItem', 'UpdateItem', 'UpdateItem', 'DeleteItem']);
    await h.admin('PUT', uid, '/phone', jsonBody({ phone: PHONE }));
    expect(await counting(() => h.admin('DELETE', uid))).toEqual([
      'GetItem',
      'UpdateItem', // mark the claim releasing
      'UpdateItem', // mark the user
      'PutItem', // the tombstone, still marked
      'DeleteItem', // delete the claim
      'UpdateItem', // clear the tombstone's marker
    ]);
    // A user with no phone: the tombstone alone.
    const phoneless = await h.newUser();
    expect(await counting(() => h.admin('DELETE', phoneless.uid))).toEqual(['GetItem', 'PutItem']);
  });

  it('a write answered but lost once is recognised by its retry, at every step of a move', async () => {
    for (let call = 2; call <= 8; call++) {
      const { token } = await h.newUser();
      const first = `1380013830${call}`;
      const second = `1380013831${call}`;
      await h.link(token, { phone: first, code: await h.codeFor(first) });
      const code = await h.codeFor(second);
      const fault = injectDynamoFault(h.app.db, { call, kind: 'networkReset', mode: 'after', attempts: 1 });
      const answer = await h.link(token, { phone: second, code });
      fault.remove();
      expect({ call, code: answer.code, failed: fault.failedAttempts() }).toEqual({ call, code: 200, failed: 1 });
      expect((await h.userInfo(token)).data).toMatchObject({ phone: second });
    }
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('ReplicatedWriteConflictException on every write of a link is retried through, never a 500', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const name = 'replicatedWriteConflict';
    let conflicts = 0;
    const seen = new Set<unknown>();
    h.app.db.middlewareStack.add(
      (next, context) => async (args) => {
        const write = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand'].includes(String(context.commandName));
        // Each write collides once with a write from another Region, then goes through.
        const request = JSON.stringify(args.input);
        if (!write || seen.has(request)) return next(args);
        seen.add(request);
        conflicts++;
        throw new ReplicatedWriteConflictException({ message: 'Conflicting write from another Region', $metadata: { httpStatusCode: 400 } });
      },
      { step: 'initialize', name },
    );
    const answer = await h.link(token, { phone: PHONE, code });
    h.app.db.middlewareStack.remove(name);
    expect(answer).toMatchObject({ status: 200, code: 200 });
    expect(conflicts).toBe(5);
    expect(await pendingMarkers(h)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('a fault that outlasts the retries on the claim is a 500 that writes nothing', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const before = await h.snapshot();
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'serverError', mode: 'before', attempts: Infinity });
    expect(await h.link(token, { phone: PHONE, code })).toEqual(internalError);
    fault.remove();
    expect(fault.failedAttempts()).toBe(CLIENT_SETTINGS.dynamodb.maxAttempts);
    expect(await h.snapshot()).toEqual(before);
  });
});
