import { InvalidParameter, RuleViolation } from '../../functions/domain/errors';
import { LOCALES, messages, smsText } from '../../functions/domain/messages';
import { ResultCode } from '../../functions/domain/result-codes';
import { fault, ok, refused } from '../../functions/http/envelope';
import { localeOf } from '../../functions/http/locale';

const bodyOf = (result: { body: string }) => JSON.parse(result.body) as Record<string, unknown>;

describe('envelope', () => {
  it('always carries code, msg, extMsg and data', () => {
    for (const result of [ok('en', 'linked'), refused('en', new RuleViolation(5002)), fault('en')]) {
      expect(Object.keys(bodyOf(result)).sort()).toEqual(['code', 'data', 'extMsg', 'msg']);
      expect(result.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    }
  });

  it('answers success with HTTP 200, code 200 and data', () => {
    expect(ok('en', 'linked').statusCode).toBe(200);
    expect(bodyOf(ok('en', 'linked'))).toEqual({ code: 200, msg: 'Phone number linked successfully', extMsg: '', data: {} });
  });

  it('answers a business refusal with HTTP 200 and its code', () => {
    expect(refused('en', new RuleViolation(5037)).statusCode).toBe(200);
    expect(bodyOf(refused('en', new RuleViolation(5037)))).toEqual({ code: 5037, msg: 'SMS verification code failed', extMsg: '', data: null });
    expect(bodyOf(refused('en', new InvalidParameter('ts')))).toMatchObject({ code: 400, msg: 'Invalid parameter: ts' });
  });

  it('answers a fault with HTTP 500 and nothing else', () => {
    expect(fault('en').statusCode).toBe(500);
    expect(bodyOf(fault('en'))).toEqual({ code: 500, msg: 'Internal server error', extMsg: '', data: null });
  });

  it('speaks Simplified Chinese when asked', () => {
    expect(bodyOf(refused('zh', new RuleViolation(5002))).msg).toBe('手机号已被注册');
    expect(bodyOf(refused('zh', new InvalidParameter('random'))).msg).toBe('参数无效：random');
  });
});

describe('messages', () => {
  const codes = Object.values(ResultCode).filter((code) => code !== ResultCode.Success);

  it.each(LOCALES)('has every code and success message in %s, and nothing else', (locale) => {
    const expected = [...codes.map(String), 'codeSent', 'linked', 'unlinked', 'success'].sort();
    expect(Object.keys(messages[locale]).sort()).toEqual(expected);
    for (const text of Object.values(messages[locale])) expect(text.trim()).not.toBe('');
  });

  it('has the same {parameter} slots in every locale', () => {
    for (const id of Object.keys(messages.en) as (keyof typeof messages.en)[]) {
      for (const locale of LOCALES) expect(messages[locale][id].includes('{parameter}')).toBe(messages.en[id].includes('{parameter}'));
    }
  });
});

describe('localeOf', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh'],
    ['zh', 'zh'],
    ['ZH-hans', 'zh'],
    ['en-US,en;q=0.9,zh;q=0.8', 'en'],
    ['fr-FR,zh;q=0.5,en;q=0.4', 'zh'],
    ['fr-FR', 'en'],
    ['zh;q=0', 'en'],
    ['*', 'en'],
    ['zh;q=abc,en', 'en'],
    ['zh_CN', 'zh'],
    ['en;q=0.5,zh_TW;q=0.8', 'zh'],
  ])('reads Accept-Language %p as %p', (header, expected) => {
    expect(localeOf(header === undefined ? {} : { 'accept-language': header })).toBe(expected);
  });

  it.each([
    ['zh', 'en', 'zh'],
    ['zh-CN', undefined, 'zh'],
    ['zh_CN', 'en', 'zh'],
    ['ZH-Hant', 'en', 'zh'],
    [' zh ', undefined, 'zh'],
    ['en', 'zh-CN', 'en'],
    ['en-US', 'zh', 'en'],
    ['fr', 'zh', 'en'],
    ['zhx', 'zh', 'en'],
    ['*', 'zh', 'en'],
    ['', 'zh', 'zh'],
    ['   ', 'zh', 'zh'],
    [undefined, 'zh', 'zh'],
  ])('reads X-Q-Language %p first (Accept-Language %p): %p', (appLanguage, acceptLanguage, expected) => {
    expect(localeOf({ 'x-q-language': appLanguage, 'accept-language': acceptLanguage })).toBe(expected);
  });
});

describe('smsText', () => {
  it.each(LOCALES)('in %s carries the code as its only run of six digits, and the validity in minutes', (locale) => {
    const text = smsText(locale, '012345', 600);
    expect(text.match(/\d{6}/g)).toEqual(['012345']);
    expect(text.match(/\d+/g)).toEqual(['012345', '10']);
  });

  it('is English or Chinese as asked', () => {
    expect(smsText('en', '123456', 300)).toBe('Your verification code is 123456. It is valid for 5 minutes. Do not share it with anyone.');
    expect(smsText('zh', '123456', 300)).toBe('您的验证码是123456，5分钟内有效。请勿泄露给他人。');
  });

  it('says at least one minute, in the singular', () => {
    expect(smsText('en', '123456', 20)).toContain('It is valid for 1 minute.');
    expect(smsText('en', '123456', 90)).toContain('It is valid for 2 minutes.');
    expect(smsText('zh', '123456', 20)).toContain('1分钟内有效');
  });
});
