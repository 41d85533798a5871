import { randomUUID } from 'node:crypto';
import type { LocalServer } from '../../local/server';
import { refusal, refusalBody } from '../support/envelopes';
import { createHarness, formBody, jsonBody, PHONE, type Harness } from '../support/harness';
import { linkInvariantViolations } from '../support/invariants';
import { LINK_MODES } from '../support/link-modes';
import { startServerOnFreshTables } from '../support/local-server';

/** docs/API.md "Admin interface", through the admin handler as API Gateway calls it after IAM authorization. */
describe.each(LINK_MODES)('admin interface (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  describe('GET /admin/v1/users/{uid}', () => {
    it('a uid never seen: exists false, every field null, nothing written', async () => {
      const before = await h.snapshot();
      expect(await h.admin('GET', 'nobody@example.com')).toEqual({
        status: 200,
        code: 200,
        msg: 'Success',
        extMsg: '',
        data: { uid: 'nobody@example.com', phone: null, internationalCode: null, phoneLinkedAt: null, erasedAt: null, exists: false },
      });
      expect(await h.snapshot()).toEqual(before);
    });

    it('a linked user: its phone as userInfo shows it', async () => {
      const { uid, token } = await h.newUser();
      await h.link(token, { phone: '13800138201', code: await h.codeFor('13800138201') });
      expect((await h.admin('GET', uid)).data).toEqual({
        uid,
        phone: '13800138201',
        internationalCode: '86',
        phoneLinkedAt: new Date(h.clock.now()).toISOString(),
        erasedAt: null,
        exists: true,
      });
    });
  });

  describe('PUT /admin/v1/users/{uid}', () => {
    it('registers the uid, and leaves a registered one as it is', async () => {
      const uid = `reg-${randomUUID()}`;
      expect(await h.admin('PUT', uid)).toMatchObject({ code: 200, data: { uid, exists: true, phone: null } });
      const { token } = { token: await h.tokenWithoutUser(uid) };
      await h.link(token, { phone: '13800138202', code: await h.codeFor('13800138202') });
      const before = await h.snapshot();
      expect(await h.admin('PUT', uid)).toMatchObject({ code: 200, data: { phone: '13800138202', exists: true } });
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('PUT /admin/v1/users/{uid}/phone', () => {
    it('links without a code, registering a uid not known yet', async () => {
      const uid = `link-${randomUUID()}`;
      expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138203', internationalCode: '86' }))).toEqual({
        status: 200,
        code: 200,
        msg: 'Phone number linked successfully',
        extMsg: '',
        data: { uid, phone: '13800138203', internationalCode: '86', alreadyLinked: false },
      });
      expect((await h.userInfo(await h.tokenWithoutUser(uid))).data).toMatchObject({ phone: '13800138203', internationalCode: '86' });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('answers 200 alreadyLinked and writes nothing when it is so already', async () => {
      const uid = `again-${randomUUID()}`;
      await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138204', internationalCode: '86' }));
      const before = await h.snapshot();
      h.clock.advance(60_000);
      expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '+8613800138204' }))).toMatchObject({ code: 200, data: { alreadyLinked: true } });
      expect(await h.snapshot()).toEqual(before);
    });

    it("moves the user to a new phone and releases the old one's claim in the same step", async () => {
      const uid = `move-${randomUUID()}`;
      await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138205', internationalCode: '86' }));
      expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138206', internationalCode: '86' }))).toMatchObject({ code: 200 });
      const { users } = await h.snapshot();
      expect(users.some((item) => item.pk === 'PHONE#+8613800138205')).toBe(false);
      expect(users.find((item) => item.pk === 'PHONE#+8613800138206')).toMatchObject({ uid });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('reads a form body like a JSON one, and applies the domestic calling code when none is given', async () => {
      const uid = `form-${randomUUID()}`;
      expect(await h.admin('PUT', uid, '/phone', formBody({ phone: '138 0013 8207' }))).toMatchObject({
        code: 200,
        data: { phone: '13800138207', internationalCode: '86' },
      });
    });

    it.each([
      ['5021 without a phone', {}, 5021, 'Please enter phone number'],
      ['5021 for a blank phone', { phone: ' ' }, 5021, 'Please enter phone number'],
      ['5019 for a number that is not a valid mobile', { phone: '12345', internationalCode: '86' }, 5019, 'Phone number format incorrect'],
      ['5019 for a landline', { phone: '1012345678', internationalCode: '86' }, 5019, 'Phone number format incorrect'],
    ])('%s, writing nothing', async (_case, body, code, msg) => {
      const before = await h.snapshot();
      expect(await h.admin('PUT', `bad-${randomUUID()}`, '/phone', jsonBody(body))).toEqual(refusal(code, msg));
      expect(await h.snapshot()).toEqual(before);
    });

    it('5002 when the phone is linked to another uid, writing nothing', async () => {
      await h.admin('PUT', `owner-${randomUUID()}`, '/phone', jsonBody({ phone: '13800138208', internationalCode: '86' }));
      const before = await h.snapshot();
      expect(await h.admin('PUT', `thief-${randomUUID()}`, '/phone', jsonBody({ phone: '13800138208', internationalCode: '86' }))).toEqual(
        refusal(5002, 'Phone number already registered'),
      );
      expect(await h.snapshot()).toEqual(before);
    });

    it('5033 for an erased uid', async () => {
      const { uid } = await h.erasedUser();
      const before = await h.snapshot();
      expect(await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138209', internationalCode: '86' }))).toEqual(refusal(5033, 'User does not exist'));
      expect(await h.snapshot()).toEqual(before);
    });

    it('gives a phone linked by the app no second owner, and the app the admin-linked phone none either', async () => {
      const { token } = await h.newUser();
      await h.link(token, { phone: PHONE, code: await h.codeFor() });
      expect((await h.admin('PUT', `other-${randomUUID()}`, '/phone', jsonBody({ phone: PHONE, internationalCode: '86' }))).code).toBe(5002);
      const adminLinked = '13800138210';
      await h.admin('PUT', `imported-${randomUUID()}`, '/phone', jsonBody({ phone: adminLinked, internationalCode: '86' }));
      expect((await h.link(token, { phone: adminLinked, code: await h.codeFor(adminLinked) })).code).toBe(5002);
      expect(await linkInvariantViolations(h)).toEqual([]);
    });
  });

  describe('uid shape', () => {
    it.each([
      ['too long', 'u'.repeat(129)],
      ['a space', 'a b'],
      ['a slash, encoded', 'a/b'],
      ['a percent sign', '100%'],
      ['non-ASCII', 'ü'],
      // Path steps: no client can send them in a URL path as a uid.
      ['a single dot', '.'],
      ['two dots', '..'],
    ])('400 "Invalid parameter: uid" for %s, on every route, writing nothing', async (_case, uid) => {
      const before = await h.snapshot();
      for (const [method, suffix] of [['GET', ''], ['PUT', ''], ['DELETE', ''], ['PUT', '/phone']] as const) {
        const body = suffix === '/phone' ? jsonBody({ phone: '13800138211', internationalCode: '86' }) : undefined;
        expect(await h.admin(method, uid, suffix, body)).toEqual(refusal(400, 'Invalid parameter: uid'));
      }
      expect(await h.snapshot()).toEqual(before);
    });

    it('takes the longest and the oddest uids the contract allows', async () => {
      for (const uid of ['u'.repeat(128), 'A-z_0.9:@-', 'user@example.com']) {
        expect(await h.admin('PUT', uid)).toMatchObject({ code: 200, data: { uid, exists: true } });
      }
    });
  });

  it('many admin links racing for one phone: one wins, the others get 5002', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => h.admin('PUT', `racer-${randomUUID()}`, '/phone', jsonBody({ phone: '13800138212', internationalCode: '86' }))),
    );
    expect(answers.filter((answer) => answer.code === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.code === 5002)).toHaveLength(11);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });
});

describe.each(LINK_MODES)('admin interface over the local server (%s)', (phoneLinks) => {
  let server: LocalServer;

  beforeAll(async () => {
    ({ server } = await startServerOnFreshTables('admin', { phoneLinks }));
  });
  afterAll(() => server.close());

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: response.status, body: (await response.json()) as { code: number; data: Record<string, unknown> | null } };
  };

  it('serves the four routes without authorization, with a percent-encoded uid', async () => {
    const uid = 'someone@example.com';
    const path = `/admin/v1/users/${encodeURIComponent(uid)}`;
    expect((await call('PUT', path)).body).toMatchObject({ code: 200, data: { uid, exists: true } });
    expect((await call('PUT', `${path}/phone`, { phone: '13800138220', internationalCode: '86' })).body).toMatchObject({ code: 200, data: { uid } });
    expect((await call('GET', path)).body).toMatchObject({ code: 200, data: { uid, phone: '13800138220' } });
    expect((await call('DELETE', path)).body).toMatchObject({ code: 200, data: { uid } });
    expect((await call('GET', path)).body).toMatchObject({ code: 200, data: { exists: false, phone: null } });
    // The same uid unencoded reaches the same user.
    expect((await call('GET', `/admin/v1/users/${uid}`)).body.data).toMatchObject({ uid, exists: false });
  });

  it.each([
    ['POST', '/admin/v1/users/abc'],
    ['GET', '/admin/v1/users/'],
    ['GET', '/admin/v1/users'],
    ['GET', '/admin/v1/users/a/b'],
    ['DELETE', '/admin/v1/users/abc/phone'],
    ['GET', '/admin/v1/users/abc/phone'],
  ])('404 for %s %s, as API Gateway has no such route', async (method, path) => {
    expect(await call(method, path)).toEqual({ status: 404, body: refusalBody(404, 'Not found') });
  });

  it('400 for a malformed percent-encoding of the uid', async () => {
    expect((await call('GET', '/admin/v1/users/%E0%A4%A')).body).toMatchObject({ code: 400 });
  });
});
