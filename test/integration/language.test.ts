import { createHarness, PHONE_E164, type Harness } from '../support/harness';

// The request's language: X-Q-Language (the platform apps' header) first,
// then Accept-Language; it picks the language of `msg` and of the SMS.

const ENGLISH_SMS = /^Your verification code is (\d{6})\. It is valid for 5 minutes\. Do not share it with anyone\.$/;
const CHINESE_SMS = /^您的验证码是(\d{6})，5分钟内有效。请勿泄露给他人。$/;

describe('language of the request', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  // Each test starts after every cooldown and window of the one before.
  beforeEach(() => h.clock.advance(24 * 3600_000));

  const latestSms = () => h.app.outbox.messagesTo(PHONE_E164).at(-1)?.text ?? '';

  it.each<[string, 'en' | 'zh', Record<string, string>]>([
    ['no language headers', 'en', {}],
    ['X-Q-Language zh', 'zh', { 'X-Q-Language': 'zh' }],
    ['X-Q-Language zh-CN', 'zh', { 'X-Q-Language': 'zh-CN' }],
    ["X-Q-Language in Java's spelling zh_CN", 'zh', { 'X-Q-Language': 'zh_CN' }],
    ['X-Q-Language ZH-TW', 'zh', { 'X-Q-Language': 'ZH-TW' }],
    ['X-Q-Language zh over Accept-Language en', 'zh', { 'X-Q-Language': 'zh', 'Accept-Language': 'en-US,en;q=0.9' }],
    ['X-Q-Language en over Accept-Language zh', 'en', { 'X-Q-Language': 'en', 'Accept-Language': 'zh-CN,zh;q=0.9' }],
    ['X-Q-Language of another language over Accept-Language zh', 'en', { 'X-Q-Language': 'fr-FR', 'Accept-Language': 'zh' }],
    ['a blank X-Q-Language: Accept-Language decides', 'zh', { 'X-Q-Language': '  ', 'Accept-Language': 'zh-CN' }],
    ["Accept-Language in Java's spelling zh_CN", 'zh', { 'Accept-Language': 'zh_CN' }],
  ])('%s: msg and SMS in %s', async (_case, locale, headers) => {
    const answer = await h.sendRaw(h.sendQuery(), undefined, undefined, headers);
    expect(answer).toMatchObject({ code: 200, msg: locale === 'zh' ? '短信验证码已发送' : 'SMS verification code sent' });
    const sms = latestSms();
    expect(sms).toMatch(locale === 'zh' ? CHINESE_SMS : ENGLISH_SMS);
    // The code is the only run of six digits: apps and the outbox read it that way.
    expect(sms.match(/\d{6}/g)).toEqual([h.latestCode()]);
  });

  it('a refusal follows X-Q-Language too', async () => {
    expect((await h.userInfo(undefined, { 'X-Q-Language': 'zh_CN', 'Accept-Language': 'en' })).msg).toBe('请输入令牌');
    expect((await h.sendRaw(h.sendQuery({ phone: undefined }), undefined, undefined, { 'X-Q-Language': 'zh-CN' })).msg).toBe('请输入手机号');
    expect((await h.sendRaw(h.sendQuery({ phone: undefined }), undefined, undefined, { 'X-Q-Language': 'en', 'Accept-Language': 'zh' })).msg).toBe('Please enter phone number');
  });

  it('states the validity in minutes as configured', async () => {
    const tenMinutes = await createHarness({ env: { CODE_TTL_SECONDS: '600' } });
    await tenMinutes.sendRaw(tenMinutes.sendQuery(), undefined, undefined, { 'X-Q-Language': 'zh' });
    expect(tenMinutes.app.outbox.messagesTo(PHONE_E164).at(-1)?.text).toContain('10分钟内有效');
    tenMinutes.close();
  });
});
