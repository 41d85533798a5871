import { createHarness, jsonBody, PHONE, type Harness } from '../support/harness';
import { linkInvariantViolations, pendingMarkers } from '../support/invariants';
import { LINK_MODES } from '../support/link-modes';
import type { PhoneLinksMode } from '../../functions/tunables';

const DAY_S = 86_400;

/**
 * What each way of writing links stores beside a user's own fields: ordered
 * writes name the operation that last wrote the user, and keep a tombstone
 * until a due time the reconciler finds (multi-Region tables have no TTL);
 * one transaction leaves it to DynamoDB's TTL.
 */
const STORED: Record<PhoneLinksMode, { user: Record<string, unknown>; tombstoneKept: (erasedAt: number, days: number) => Record<string, unknown> }> = {
  transactions: {
    user: {},
    tombstoneKept: (erasedAt, days) => ({ ttl: Math.ceil(erasedAt / 1000) + days * DAY_S }),
  },
  'ordered-writes': {
    user: { lastOperation: expect.any(String) },
    tombstoneKept: (erasedAt, days) => ({
      retainUntil: erasedAt + days * DAY_S * 1000,
      dueAt: erasedAt + days * DAY_S * 1000,
      dueShard: expect.stringMatching(/^DUE#\d$/),
      lastOperation: expect.any(String),
    }),
  },
};

/** docs/API.md "Users": known on first use, registered, erased. */
describe.each(LINK_MODES)('users known on first use, the default (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  it('userInfo of a uid never seen answers null phone fields and writes nothing', async () => {
    const uid = `fresh-${Date.now()}`;
    const token = await h.tokenWithoutUser(uid);
    const before = await h.snapshot();
    expect(await h.userInfo(token)).toMatchObject({ status: 200, code: 200, data: { uid, phone: null, internationalCode: null, phoneLinkedAt: null } });
    expect(await h.snapshot()).toEqual(before);
  });

  it('a token for a uid never seen links a phone with the normal flow, creating the user in the same step', async () => {
    const uid = `first-use-${Date.now()}`;
    const token = await h.tokenWithoutUser(uid);
    const phone = '13800138101';
    expect(await h.link(token, { phone, code: await h.codeFor(phone) })).toMatchObject({ code: 200 });
    const linkedAt = new Date(h.clock.now()).toISOString();
    expect((await h.userInfo(token)).data).toEqual({ uid, phone, internationalCode: '86', phoneLinkedAt: linkedAt });
    const { users } = await h.snapshot();
    expect(users.find((item) => item.pk === `USER#${uid}`)).toEqual({
      pk: `USER#${uid}`,
      uid,
      createdAt: linkedAt,
      phone: `+86${phone}`,
      callingCode: '86',
      nationalNumber: phone,
      phoneLinkedAt: linkedAt,
      ...STORED[phoneLinks].user,
    });
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('a second link of a first-use user keeps its creation time', async () => {
    const uid = `relink-${Date.now()}`;
    const token = await h.tokenWithoutUser(uid);
    await h.link(token, { phone: '13800138102', code: await h.codeFor('13800138102') });
    const createdAt = new Date(h.clock.now()).toISOString();
    h.clock.advance(120_000);
    expect(await h.link(token, { phone: '13800138103', code: await h.codeFor('13800138103') })).toMatchObject({ code: 200 });
    const { users } = await h.snapshot();
    expect(users.find((item) => item.pk === `USER#${uid}`)).toMatchObject({ createdAt, nationalNumber: '13800138103' });
    expect(users.some((item) => item.pk === 'PHONE#+8613800138102')).toBe(false);
  });

  it('unlinking for a uid never seen answers 5384 and writes nothing', async () => {
    const token = await h.tokenWithoutUser();
    const before = await h.snapshot();
    expect(await h.unlink(token, { code: '123456' })).toMatchObject({ code: 5384, msg: 'No phone number bound' });
    expect(await h.snapshot()).toEqual(before);
  });
});

describe.each(LINK_MODES)('registered users only, USER_PROVISIONING=registered (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks, env: { USER_PROVISIONING: 'registered' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  it('a uid never registered answers 5033 everywhere and writes nothing', async () => {
    const token = await h.tokenWithoutUser();
    const code = await h.codeFor();
    const before = await h.snapshot();
    expect(await h.userInfo(token)).toMatchObject({ code: 5033, msg: 'User does not exist' });
    expect(await h.link(token, { phone: PHONE, code })).toMatchObject({ code: 5033 });
    expect(await h.unlink(token, { code })).toMatchObject({ code: 5033 });
    expect(await h.snapshot()).toEqual(before);
  });

  it('a uid registered through the admin interface links and reads as usual', async () => {
    const uid = `registered-${Date.now()}`;
    expect(await h.admin('PUT', uid)).toMatchObject({ code: 200, data: { uid, exists: true, phone: null } });
    const token = await h.tokenWithoutUser(uid);
    expect(await h.userInfo(token)).toMatchObject({ code: 200, data: { uid, phone: null } });
    expect(await h.link(token, { phone: '13800138104', code: await h.codeFor('13800138104') })).toMatchObject({ code: 200 });
    expect((await h.userInfo(token)).data).toMatchObject({ phone: '13800138104' });
  });

  it('the admin link registers a uid it does not know yet', async () => {
    const uid = `imported-${Date.now()}`;
    expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138105', internationalCode: '86' }))).toMatchObject({ code: 200 });
    expect(await h.userInfo(await h.tokenWithoutUser(uid))).toMatchObject({ code: 200, data: { phone: '13800138105' } });
  });
});

describe.each(LINK_MODES)('erasure (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks, env: { ERASED_USER_RETENTION_DAYS: '7' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  it("an erased user's live token gets 5033 everywhere, and its number is free at once", async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: PHONE, code: await h.codeFor() });
    expect(await h.admin('DELETE', user.uid)).toMatchObject({ code: 200, data: { uid: user.uid } });

    const code = await h.codeFor(PHONE, '86', '4');
    expect(await h.userInfo(user.token)).toMatchObject({ code: 5033 });
    expect(await h.unlink(user.token, { code })).toMatchObject({ code: 5033 });
    expect(await h.link(user.token, { phone: '13800138106', code: await h.codeFor('13800138106') })).toMatchObject({ code: 5033 });

    const other = await h.newUser();
    h.clock.advance(61_000);
    expect(await h.link(other.token, { phone: PHONE, code: await h.codeFor() })).toMatchObject({ code: 200 });
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('leaves a tombstone with only the uid, the time of erasure and a TTL (on multi-Region tables, a due time) after the retention', async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: '13800138107', code: await h.codeFor('13800138107') });
    await h.admin('DELETE', user.uid);
    const erasedAt = h.clock.now();
    const { users } = await h.snapshot();
    expect(users.filter((item) => String(item.pk).includes('13800138107'))).toEqual([]);
    expect(users.find((item) => item.pk === `USER#${user.uid}`)).toEqual({
      pk: `USER#${user.uid}`,
      uid: user.uid,
      erasedAt: new Date(erasedAt).toISOString(),
      ...STORED[phoneLinks].tombstoneKept(erasedAt, 7),
    });
    expect((await h.admin('GET', user.uid)).data).toEqual({
      uid: user.uid,
      phone: null,
      internationalCode: null,
      phoneLinkedAt: null,
      erasedAt: new Date(erasedAt).toISOString(),
      exists: false,
    });
  });

  it('is idempotent, and tombstones a uid never seen all the same', async () => {
    const user = await h.newUser();
    await h.admin('DELETE', user.uid);
    const first = await h.snapshot();
    h.clock.advance(60_000);
    expect(await h.admin('DELETE', user.uid)).toMatchObject({ code: 200 });
    expect(await h.snapshot()).toEqual(first);

    const stranger = `never-seen-${Date.now()}`;
    expect(await h.admin('DELETE', stranger)).toMatchObject({ code: 200 });
    expect(await h.userInfo(await h.tokenWithoutUser(stranger))).toMatchObject({ code: 5033 });
  });

  it('for an erased uid, the app endpoints and the admin link answer 5033; the admin GET, DELETE and PUT answer 200 (README)', async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: '13800138109', code: await h.codeFor('13800138109') });
    await h.admin('DELETE', user.uid);

    const answers = {
      relationPhone: await h.link(user.token, { phone: '13800138110', code: await h.codeFor('13800138110') }),
      userInfo: await h.userInfo(user.token),
      deletePhoneRelation: await h.unlink(user.token, { code: await h.codeFor('13800138109', '86', '4') }),
      adminLink: await h.admin('PUT', user.uid, '/phone', jsonBody({ phone: '13800138111', internationalCode: '86' })),
      adminGet: await h.admin('GET', user.uid),
      adminErase: await h.admin('DELETE', user.uid),
      // Last: it makes the uid a user again.
      adminRegister: await h.admin('PUT', user.uid),
    };

    expect(Object.fromEntries(Object.entries(answers).map(([endpoint, answer]) => [endpoint, answer.code]))).toEqual({
      relationPhone: 5033,
      userInfo: 5033,
      deletePhoneRelation: 5033,
      adminLink: 5033,
      adminGet: 200,
      adminErase: 200,
      adminRegister: 200,
    });
    expect(answers.adminGet.data).toMatchObject({ exists: false, erasedAt: expect.any(String) });
    expect(answers.adminRegister.data).toMatchObject({ exists: true, erasedAt: null, phone: null });
  });

  it('registering an erased uid starts it afresh, with no phone', async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: '13800138108', code: await h.codeFor('13800138108') });
    await h.admin('DELETE', user.uid);
    expect(await h.admin('PUT', user.uid)).toMatchObject({ code: 200, data: { exists: true, erasedAt: null, phone: null } });
    expect(await h.userInfo(user.token)).toMatchObject({ code: 200, data: { phone: null } });
  });
});

// Erasure racing a link or an unlink, in both ways of writing them: one transaction each, or ordered writes (multi-Region tables).
describe.each(LINK_MODES)('erasure racing (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks, env: { ERASED_USER_RETENTION_DAYS: '7' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  it('racing a link and an unlink of the same user: no claim points at an erased user, no erased user holds a phone', async () => {
    for (let round = 0; round < 6; round++) {
      const user = await h.newUser();
      const first = `1370013${String(round).padStart(4, '0')}`;
      const second = `1370014${String(round).padStart(4, '0')}`;
      await h.link(user.token, { phone: first, code: await h.codeFor(first) });
      const unlinkCode = await h.codeFor(first, '86', '4');
      const linkCode = await h.codeFor(second);
      const answers = await Promise.all([
        h.admin('DELETE', user.uid),
        h.link(user.token, { phone: second, code: linkCode }),
        h.unlink(user.token, { code: unlinkCode }),
      ]);
      expect(answers[0]).toMatchObject({ status: 200, code: 200 });
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(await h.userInfo(user.token)).toMatchObject({ code: 5033 });
      const { users } = await h.snapshot();
      expect(users.filter((item) => item.uid === user.uid && String(item.pk).startsWith('PHONE#'))).toEqual([]);
      expect(users.find((item) => item.pk === `USER#${user.uid}`)).not.toHaveProperty('phone');
      expect(await linkInvariantViolations(h)).toEqual([]);
      expect(await pendingMarkers(h)).toEqual([]);
    }
  });

  it('racing a first link of a user with no phone yet: the erased user never ends up holding it', async () => {
    for (let round = 0; round < 12; round++) {
      const fresh = `first-${round}-${Date.now()}`;
      // Registered with no phone, or never seen (known on first use).
      const user = round % 2 === 0 ? await h.newUser() : { uid: fresh, token: await h.tokenWithoutUser(fresh) };
      const phone = `1370015${String(round).padStart(4, '0')}`;
      const code = await h.codeFor(phone);
      const [erased, linked] = await Promise.all([h.admin('DELETE', user.uid), h.link(user.token, { phone, code })]);
      expect(erased).toMatchObject({ code: 200 });
      expect([200, 5033]).toContain(linked.code);
      expect(await linkInvariantViolations(h)).toEqual([]);
      expect(await pendingMarkers(h)).toEqual([]);
    }
  });
});
