import { SignJWT, generateKeyPair } from 'jose';
import type { PhoneLinksMode } from '../../functions/tunables';
import { LINKED, refusal } from '../support/envelopes';
import { createHarness, PHONE, PHONE_E164, type Harness } from '../support/harness';
import { LINK_MODES } from '../support/link-modes';

/**
 * What the losers of a race for one phone answer. One transaction consumes
 * the code with the claim: a loser finds the code used. Ordered writes claim
 * the phone first, so a loser may also find it taken while the winner's link
 * is in flight (docs/MULTI-REGION.md, "One difference from a single region").
 */
const LOSERS_ANSWER: Record<PhoneLinksMode, number[]> = { transactions: [5037], 'ordered-writes': [5037, 5002] };

describe.each(LINK_MODES)('POST /v2/enduser/enduserapi/relationPhone (%s)', (phoneLinks) => {
  let h: Harness;

  // Fresh tables for every test: no phone is linked, no code is sent.
  beforeEach(async () => {
    h = await createHarness({ phoneLinks });
  });
  afterEach(() => h.close());

  it('links the phone with the latest code and shows it in userInfo', async () => {
    const { uid, token } = await h.newUser();
    const code = await h.codeFor();
    expect(await h.link(token, { phone: PHONE, code, internationalCode: '86' })).toEqual(LINKED);
    const info = await h.userInfo(token);
    expect(info.data).toEqual({ uid, phone: PHONE, internationalCode: '86', phoneLinkedAt: new Date(h.clock.now()).toISOString() });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('uses the domestic calling code (86) when internationalCode is %s', async (_case, internationalCode) => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    expect(await h.link(token, { phone: PHONE, code, internationalCode })).toEqual(LINKED);
    expect((await h.userInfo(token)).data).toMatchObject({ phone: PHONE, internationalCode: '86' });
  });

  describe('a phone starting with + names its own country', () => {
    const UK_MOBILE = '+447911123456';

    it.each([
      ['absent', undefined],
      ['empty', ''],
      ['blank', '  '],
      ['the same country', '44'],
      ['the same country, as +44', '+44'],
    ])('links it when internationalCode is %s', async (_case, internationalCode) => {
      const { token } = await h.newUser();
      expect((await h.send({ phone: UK_MOBILE, internationalCode: '44' })).code).toBe(200);
      expect(await h.link(token, { phone: UK_MOBILE, code: h.latestCode(UK_MOBILE), internationalCode })).toEqual(LINKED);
      expect((await h.userInfo(token)).data).toMatchObject({ phone: '7911123456', internationalCode: '44' });
    });

    it('after separators too', async () => {
      const { token } = await h.newUser();
      expect((await h.send({ phone: UK_MOBILE, internationalCode: '44' })).code).toBe(200);
      expect(await h.link(token, { phone: ' (+44) 7911-123.456', code: h.latestCode(UK_MOBILE) })).toEqual(LINKED);
    });

    it('the domestic country too, without internationalCode', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      expect(await h.link(token, { phone: PHONE_E164, code })).toEqual(LINKED);
      expect((await h.userInfo(token)).data).toMatchObject({ phone: PHONE, internationalCode: '86' });
    });

    it('answers 5019 when internationalCode names another country, touching nothing', async () => {
      const { token } = await h.newUser();
      expect((await h.send({ phone: UK_MOBILE, internationalCode: '44' })).code).toBe(200);
      const before = await h.snapshot();
      expect(await h.link(token, { phone: UK_MOBILE, code: h.latestCode(UK_MOBILE), internationalCode: '86' })).toEqual(
        refusal(5019, 'Phone number format incorrect'),
      );
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('token', () => {
    it.each([
      ['no Authorization header', {}],
      ['an empty one', { Authorization: '' }],
      ['Bearer with nothing after it', { Authorization: 'Bearer ' }],
      ['lower-case bearer with nothing after it', { Authorization: 'bearer' }],
    ])('5106 with %s, before any parameter check', async (_case, headers) => {
      expect(await h.link(undefined, {}, headers)).toEqual(refusal(5106, 'Please enter token'));
    });

    it('matches the scheme word case-insensitively', async () => {
      const { token } = await h.newUser();
      expect((await h.link(undefined, {}, { Authorization: `bEaReR ${token}` })).code).toBe(5021);
    });

    it('5032 for any token that does not verify, before any parameter check', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const foreign = await new SignJWT({ uid: 'u1', type: 'AccessToken' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey);
      const valid = await h.app.tokenIssuer.signAccessToken('u1');
      const [header, payload, signature] = valid.split('.');
      const tampered = [header, Buffer.from(JSON.stringify({ uid: 'admin', type: 'AccessToken', exp: 9_999_999_999 })).toString('base64url'), signature].join('.');
      const expired = await h.app.tokenIssuer.signAccessToken('u1', { expiresInSeconds: -60 });
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
      void publicKey;
      for (const token of ['garbage', foreign, tampered, expired, unsigned, 'a.b.c']) {
        expect(await h.link(token, {})).toEqual(refusal(5032, 'Token verification failed'));
      }
    });

    it('reads a bare token (no scheme word) like one with Bearer', async () => {
      const { token } = await h.newUser();
      expect((await h.link(undefined, {}, { Authorization: token })).code).toBe(5021);
      expect((await h.link(undefined, {}, { Authorization: `  ${token}  ` })).code).toBe(5021);
      const code = await h.codeFor();
      expect(await h.link(undefined, { phone: PHONE, code }, { Authorization: token })).toEqual(LINKED);
    });

    it.each([
      ['a bare token that does not verify', 'not-a-jwt'],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['the scheme word twice', 'Bearer Bearer x.y.z'],
      ['the scheme word run into the token', 'Bearerx.y.z'],
    ])('5032 for %s', async (_case, authorization) => {
      expect(await h.link(undefined, {}, { Authorization: authorization })).toEqual(refusal(5032, 'Token verification failed'));
    });
  });

  describe('checks in order, the first failing one answers, touching no data', () => {
    it.each([
      ['5021 without phone', { code: 'abc', internationalCode: 'x' }, 5021, 'Please enter phone number'],
      ['5021 for a blank phone', { phone: ' ', code: '123456' }, 5021, 'Please enter phone number'],
      ['5064 without code', { phone: 'bad', internationalCode: 'x' }, 5064, 'Please enter verification code'],
      ['5064 for an empty code', { phone: PHONE, code: '' }, 5064, 'Please enter verification code'],
      ['5019 for a malformed phone', { phone: '12345', code: '123456' }, 5019, 'Phone number format incorrect'],
      ['5019 for a malformed internationalCode', { phone: PHONE, code: '123456', internationalCode: '+86+' }, 5019, 'Phone number format incorrect'],
      ['5019 for an international phone of another country', { phone: PHONE_E164, code: '123456', internationalCode: '44' }, 5019, 'Phone number format incorrect'],
    ])('%s', async (_case, query, code, msg) => {
      const { token } = await h.newUser();
      const before = await h.snapshot();
      expect(await h.link(token, query)).toEqual(refusal(code, msg));
      expect(await h.snapshot()).toEqual(before);
    });

    it('5033 for a valid token of an erased user, before the code', async () => {
      const code = await h.codeFor();
      const { token } = await h.erasedUser();
      const before = await h.snapshot();
      expect(await h.link(token, { phone: PHONE, code })).toEqual(refusal(5033, 'User does not exist'));
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('5037 SMS verification code failed', () => {
    it('when no code was sent to the phone', async () => {
      const { token } = await h.newUser();
      expect(await h.link(token, { phone: '13800138111', code: '123456' })).toEqual(refusal(5037, 'SMS verification code failed'));
    });

    it('when the code is wrong, counting one try', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      const wrong = code === '000000' ? '000001' : '000000';
      expect((await h.link(token, { phone: PHONE, code: wrong })).code).toBe(5037);
      const { codes } = await h.snapshot();
      expect(codes.find((item) => item.pk === `CODE#link#${PHONE_E164}`)?.wrongTries).toBe(1);
      expect(await h.link(token, { phone: PHONE, code })).toEqual(LINKED);
    });

    it('when the code is not six digits, without counting a try', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      for (const malformed of ['12345', '1234567', 'abcdef', `${code} `]) {
        expect((await h.link(token, { phone: PHONE, code: malformed })).code).toBe(5037);
      }
      const { codes } = await h.snapshot();
      expect(codes.find((item) => item.pk === `CODE#link#${PHONE_E164}`)?.wrongTries).toBe(0);
      expect(await h.link(token, { phone: PHONE, code })).toEqual(LINKED);
    });

    it('when the code expired after 5 minutes', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      h.clock.advance(5 * 60_000);
      expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037);
    });

    it('but not a moment before it expires', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      h.clock.advance(5 * 60_000 - 1);
      expect(await h.link(token, { phone: PHONE, code })).toEqual(LINKED);
    });

    it('after 5 wrong tries, even for the right code, until a new one is sent', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      const wrong = code === '999999' ? '999998' : '999999';
      for (let i = 0; i < 5; i++) expect((await h.link(token, { phone: PHONE, code: wrong })).code).toBe(5037);
      expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037);
      h.clock.advance(61_000);
      expect(await h.link(token, { phone: PHONE, code: await h.codeFor() })).toEqual(LINKED);
    });

    it('for an earlier code once a newer one was sent', async () => {
      const { token } = await h.newUser();
      let first = await h.codeFor();
      let second = first;
      // One chance in a million that two codes are the same: draw again.
      while (second === first) {
        h.clock.advance(61_000);
        [first, second] = [second, await h.codeFor()];
      }
      expect((await h.link(token, { phone: PHONE, code: first })).code).toBe(5037);
      expect(await h.link(token, { phone: PHONE, code: second })).toEqual(LINKED);
    });

    it('for a code already used', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      expect(await h.link(token, { phone: PHONE, code })).toEqual(LINKED);
      expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037);
    });

    it('for a code sent for unlinking (codeType 7)', async () => {
      const { token } = await h.newUser();
      expect((await h.send({ codeType: '7' })).code).toBe(200);
      expect((await h.link(token, { phone: PHONE, code: h.latestCode() })).code).toBe(5037);
    });
  });

  describe('5002 Phone number already registered', () => {
    it('tells only a holder of the code, and consumes nothing', async () => {
      const owner = await h.newUser();
      await h.link(owner.token, { phone: PHONE, code: await h.codeFor() });
      const other = await h.newUser();
      h.clock.advance(61_000);
      const code = await h.codeFor();
      expect((await h.link(other.token, { phone: PHONE, code: '000000' === code ? '000001' : '000000' })).code).toBe(5037);
      const before = await h.snapshot();
      expect(await h.link(other.token, { phone: PHONE, code })).toEqual(refusal(5002, 'Phone number already registered'));
      expect(await h.snapshot()).toEqual(before);
      // The code was not consumed: its owner can still use it.
      expect(await h.link(owner.token, { phone: PHONE, code })).toEqual(LINKED);
    });
  });

  describe('relinking', () => {
    it('releases the old phone in the same step', async () => {
      const user = await h.newUser();
      await h.link(user.token, { phone: '13900139000', code: await h.codeFor('13900139000') });
      await h.link(user.token, { phone: PHONE, code: await h.codeFor() });
      expect((await h.userInfo(user.token)).data).toMatchObject({ phone: PHONE });
      const { users } = await h.snapshot();
      expect(users.find((item) => item.pk === 'PHONE#+8613900139000')).toBeUndefined();
      const other = await h.newUser();
      h.clock.advance(61_000);
      expect(await h.link(other.token, { phone: '13900139000', code: await h.codeFor('13900139000') })).toEqual(LINKED);
    });

    it('answers 200 for the phone the user already has, consuming the code', async () => {
      const user = await h.newUser();
      await h.link(user.token, { phone: PHONE, code: await h.codeFor() });
      h.clock.advance(61_000);
      const code = await h.codeFor();
      expect(await h.link(user.token, { phone: '+86 138 0013 8000', code })).toEqual(LINKED);
      expect((await h.link(user.token, { phone: PHONE, code })).code).toBe(5037);
      const { users } = await h.snapshot();
      expect(users.filter((item) => item.uid === user.uid)).toHaveLength(2);
    });
  });

  it('20 users linking one phone at once: exactly one wins, the tables stay consistent', async () => {
    const racers = await Promise.all(Array.from({ length: 20 }, () => h.newUser()));
    const code = await h.codeFor('13700137000');
    const answers = await Promise.all(racers.map((r) => h.link(r.token, { phone: '13700137000', code })));
    const winners = answers.filter((a) => a.code === 200);
    expect(winners).toHaveLength(1);
    expect(answers.every((a) => a.status === 200 && [200, ...LOSERS_ANSWER[phoneLinks]].includes(a.code))).toBe(true);
    const { users } = await h.snapshot();
    const claim = users.find((item) => item.pk === 'PHONE#+8613700137000');
    const holders = users.filter((item) => String(item.pk).startsWith('USER#') && item.phone === '+8613700137000');
    expect(holders).toHaveLength(1);
    expect(claim?.uid).toBe(holders[0]?.uid);
    expect(racers.map((r) => r.uid)[answers.findIndex((a) => a.code === 200)]).toBe(claim?.uid);
  });
});

describe.each(LINK_MODES)('messages in the language of the request (%s)', (phoneLinks) => {
  it('answers msg in Simplified Chinese when Accept-Language prefers zh, codes unchanged', async () => {
    const h = await createHarness({ phoneLinks });
    const { token } = await h.newUser();
    expect(await h.link(token, { code: '123456' }, { 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.8' })).toEqual(
      refusal(5021, '请输入手机号'),
    );
    const code = await h.codeFor();
    expect(await h.link(token, { phone: PHONE, code }, { 'Accept-Language': 'zh' })).toEqual({ ...LINKED, msg: '手机号绑定成功' });
    expect((await h.link(token, { phone: PHONE, code }, { 'Accept-Language': 'en-GB' })).msg).toBe('SMS verification code failed');
    h.close();
  });
});
