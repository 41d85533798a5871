import { refusal, UNLINKED } from '../support/envelopes';
import { createHarness, PHONE, PHONE_E164, type Harness } from '../support/harness';
import { LINK_MODES } from '../support/link-modes';

describe.each(LINK_MODES)('DELETE /v2/enduser/enduserapi/deletePhoneRelation (%s)', (phoneLinks) => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness({ phoneLinks });
  });
  afterEach(() => h.close());

  /** A user with PHONE linked, and a codeType 7 code sent to it. */
  const linkedUser = async () => {
    const user = await h.newUser();
    await h.link(user.token, { phone: PHONE, code: await h.codeFor() });
    const unlinkCode = await h.codeFor(PHONE, '86', '7');
    return { ...user, unlinkCode };
  };

  it('unlinks with a codeType 7 code, and the number can be linked again at once', async () => {
    const { uid, token, unlinkCode } = await linkedUser();
    expect(await h.unlink(token, { code: unlinkCode })).toEqual(UNLINKED);
    expect((await h.userInfo(token)).data).toEqual({ uid, phone: null, internationalCode: null, phoneLinkedAt: null });
    const { users } = await h.snapshot();
    expect(users.find((item) => item.pk === `PHONE#${PHONE_E164}`)).toBeUndefined();

    const other = await h.newUser();
    h.clock.advance(61_000);
    expect((await h.link(other.token, { phone: PHONE, code: await h.codeFor() })).code).toBe(200);
  });

  it('checks in order: token, 5064, 5033, 5384, 5037', async () => {
    expect((await h.unlink(undefined, {})).code).toBe(5106);
    expect((await h.unlink('bad', {})).code).toBe(5032);
    const fresh = await h.newUser();
    expect(await h.unlink(fresh.token, {})).toEqual(refusal(5064, 'Please enter verification code'));
    expect(await h.unlink((await h.erasedUser()).token, { code: '123456' })).toEqual(refusal(5033, 'User does not exist'));
    expect(await h.unlink(fresh.token, { code: '123456' })).toEqual(refusal(5384, 'No phone number bound'));
    const { token, unlinkCode } = await linkedUser();
    const wrong = unlinkCode === '000000' ? '000001' : '000000';
    const before = await h.snapshot();
    expect(await h.unlink(token, { code: 'abc' })).toEqual(refusal(5037, 'SMS verification code failed'));
    expect(await h.snapshot()).toEqual(before);
    expect((await h.unlink(token, { code: wrong })).code).toBe(5037);
  });

  it('never unlinks with a codeType 6 code', async () => {
    const { token } = await linkedUser();
    h.clock.advance(61_000);
    const linkCode = await h.codeFor();
    expect((await h.unlink(token, { code: linkCode })).code).toBe(5037);
    expect((await h.userInfo(token)).data).toMatchObject({ phone: PHONE });
  });

  it('voids the code after 5 wrong tries, and a used code does not work twice', async () => {
    const { token, unlinkCode } = await linkedUser();
    const wrong = unlinkCode === '999999' ? '999998' : '999999';
    for (let i = 0; i < 5; i++) expect((await h.unlink(token, { code: wrong })).code).toBe(5037);
    expect((await h.unlink(token, { code: unlinkCode })).code).toBe(5037);
    h.clock.advance(61_000);
    const fresh = await h.codeFor(PHONE, '86', '7');
    expect(await h.unlink(token, { code: fresh })).toEqual(UNLINKED);
    expect((await h.unlink(token, { code: fresh })).code).toBe(5384);
  });

  it('5037 for an expired code', async () => {
    const { token, unlinkCode } = await linkedUser();
    h.clock.advance(5 * 60_000);
    expect((await h.unlink(token, { code: unlinkCode })).code).toBe(5037);
  });
});
