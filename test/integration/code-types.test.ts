import { LINKED, refusal, UNLINKED } from '../support/envelopes';
import { createHarness, PHONE, PHONE_E164, type Harness } from '../support/harness';

// The platform's SDKs ask for codeType 3 when an app links a phone (the new
// number) and 4 when it gives one up (the old number); 6 and 7 are their
// aliases, one purpose each, sharing one code, its cooldown and its tries.

const INVALID_CODE_TYPE = refusal(400, 'Invalid parameter: codeType');

describe('code types', () => {
  let h: Harness;

  // Fresh tables for every test: no phone is linked, no code is sent.
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  const other = (code: string) => (code === '000000' ? '000001' : '000000');

  describe('an app on the platform SDK changes a user phone', () => {
    it('links with a codeType 3 code, and unlinks with a codeType 4 code', async () => {
      const { uid, token } = await h.newUser();
      expect(await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', '3'), internationalCode: '86' })).toEqual(LINKED);
      expect((await h.userInfo(token)).data).toMatchObject({ uid, phone: PHONE });
      expect(await h.unlink(token, { code: await h.codeFor(PHONE, '86', '4') })).toEqual(UNLINKED);
      expect((await h.userInfo(token)).data).toMatchObject({ uid, phone: null });
    });

    it('moves from the old number to a new one: 4 to the old, 3 to the new', async () => {
      const { token } = await h.newUser();
      await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', '3') });
      const newPhone = '13900139000';
      expect(await h.unlink(token, { code: await h.codeFor(PHONE, '86', '4') })).toEqual(UNLINKED);
      expect(await h.link(token, { phone: newPhone, code: await h.codeFor(newPhone, '86', '3') })).toEqual(LINKED);
      expect((await h.userInfo(token)).data).toMatchObject({ phone: newPhone });
    });
  });

  describe('each code proves its own purpose only', () => {
    it.each(['4', '7'])('a codeType %s code does not link', async (codeType) => {
      const { token } = await h.newUser();
      expect((await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', codeType) })).code).toBe(5037);
    });

    it.each(['3', '6'])('a codeType %s code does not unlink', async (codeType) => {
      const { token } = await h.newUser();
      await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', '3') });
      h.clock.advance(61_000);
      expect((await h.unlink(token, { code: await h.codeFor(PHONE, '86', codeType) })).code).toBe(5037);
    });
  });

  describe('an alias and its type share one code, one cooldown and one count of tries', () => {
    it.each([
      ['3', '6'],
      ['6', '3'],
      ['4', '7'],
      ['7', '4'],
    ])('%s then %s within the cooldown answers 5058', async (first, second) => {
      expect((await h.send({ codeType: first })).code).toBe(200);
      h.clock.advance(59_999);
      expect((await h.send({ codeType: second })).code).toBe(5058);
      h.clock.advance(1);
      expect((await h.send({ codeType: second })).code).toBe(200);
    });

    it('a code sent as 6 is consumed by relationPhone, and is the one code of its purpose', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor(PHONE, '86', '6');
      const { codes } = await h.snapshot();
      expect(codes.filter((item) => String(item.pk).startsWith('CODE#')).map((item) => item.pk)).toEqual([`CODE#link#${PHONE_E164}`]);
      expect(await h.link(token, { phone: PHONE, code })).toEqual(LINKED);
      expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037);
    });

    it('a 6 sent after a 3 replaces it: only the latest code of the purpose is valid', async () => {
      const { token } = await h.newUser();
      let first = await h.codeFor(PHONE, '86', '3');
      h.clock.advance(61_000);
      let second = await h.codeFor(PHONE, '86', '6');
      // One chance in a million that two codes are the same: draw again.
      while (second === first) {
        h.clock.advance(61_000);
        [first, second] = [second, await h.codeFor(PHONE, '86', '6')];
      }
      expect((await h.link(token, { phone: PHONE, code: first })).code).toBe(5037);
      expect(await h.link(token, { phone: PHONE, code: second })).toEqual(LINKED);
    });

    it('wrong tries void the shared code, and its alias brings no fresh one within the cooldown', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor(PHONE, '86', '6');
      for (let i = 0; i < 5; i++) expect((await h.link(token, { phone: PHONE, code: other(code) })).code).toBe(5037);
      // Void now, and a 3 within the cooldown brings no fresh one.
      expect((await h.send({ codeType: '3' })).code).toBe(5058);
      expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037);
      h.clock.advance(61_000);
      expect(await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', '3') })).toEqual(LINKED);
    });

    it('a 7 code unlinks like a 4, its wrong tries void it, and a 4 brings no fresh one within the cooldown', async () => {
      const { token } = await h.newUser();
      await h.link(token, { phone: PHONE, code: await h.codeFor(PHONE, '86', '3') });
      const code = await h.codeFor(PHONE, '86', '7');
      for (let i = 0; i < 5; i++) expect((await h.unlink(token, { code: other(code) })).code).toBe(5037);
      expect((await h.unlink(token, { code })).code).toBe(5037);
      expect((await h.send({ codeType: '4' })).code).toBe(5058);
      h.clock.advance(61_000);
      expect(await h.unlink(token, { code: await h.codeFor(PHONE, '86', '7') })).toEqual(UNLINKED);
    });
  });

  it.each(['1', '2', '5', '8', '0', '9', '33', '03', '3 ', '+3', '３'])('answers 400 "Invalid parameter: codeType" for codeType %p, storing nothing', async (codeType) => {
    const before = await h.snapshot();
    expect(await h.send({ codeType })).toEqual(INVALID_CODE_TYPE);
    expect(await h.snapshot()).toEqual(before);
    expect(h.app.outbox.messagesTo(PHONE_E164)).toEqual([]);
  });
});
