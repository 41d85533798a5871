import type { ResultCode } from './result-codes';

/**
 * The one table of `msg` texts: English by default, Simplified Chinese when
 * the request prefers it. A test checks every locale has every message.
 */
export const LOCALES = ['en', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];

export type SuccessMessage = 'codeSent' | 'linked' | 'unlinked' | 'success';
export type MessageId = Exclude<ResultCode, 200 | 400> | 400 | SuccessMessage;

export const messages: Record<Locale, Record<MessageId, string>> = {
  en: {
    codeSent: 'SMS verification code sent',
    linked: 'Phone number linked successfully',
    unlinked: 'Phone number unbound successfully',
    success: 'Success',
    400: 'Invalid parameter: {parameter}',
    500: 'Internal server error',
    5002: 'Phone number already registered',
    5019: 'Phone number format incorrect',
    5021: 'Please enter phone number',
    5023: 'Please enter user domain',
    5032: 'Token verification failed',
    5033: 'User does not exist',
    5037: 'SMS verification code failed',
    5058: 'SMS sending exceeds frequency limit',
    5059: 'SMS sending exception',
    5064: 'Please enter verification code',
    5106: 'Please enter token',
    5116: 'Please enter international code',
    5384: 'No phone number bound',
    5420: 'Signature verification failed',
    5550: 'Please enter signature',
  },
  zh: {
    codeSent: '短信验证码已发送',
    linked: '手机号绑定成功',
    unlinked: '手机号解绑成功',
    success: '成功',
    400: '参数无效：{parameter}',
    500: '服务器内部错误',
    5002: '手机号已被注册',
    5019: '手机号格式不正确',
    5021: '请输入手机号',
    5023: '请输入用户域',
    5032: '令牌验证失败',
    5033: '用户不存在',
    5037: '短信验证码验证失败',
    5058: '短信发送超过频率限制',
    5059: '短信发送异常',
    5064: '请输入验证码',
    5106: '请输入令牌',
    5116: '请输入国际区号',
    5384: '未绑定手机号',
    5420: '签名验证失败',
    5550: '请输入签名',
  },
};

/**
 * The SMS that carries a code, in the request's language. The code is its
 * only run of six digits (apps and the local outbox read it that way); the
 * validity is in whole minutes.
 */
export const smsTexts: Record<Locale, (code: string, minutes: number) => string> = {
  en: (code, minutes) => `Your verification code is ${code}. It is valid for ${minutes} minute${minutes === 1 ? '' : 's'}. Do not share it with anyone.`,
  zh: (code, minutes) => `您的验证码是${code}，${minutes}分钟内有效。请勿泄露给他人。`,
};

export const smsText = (locale: Locale, code: string, validSeconds: number): string =>
  smsTexts[locale](code, Math.max(1, Math.round(validSeconds / 60)));

/** The text of a message in a locale, with `{parameter}` filled in. */
export const messageText = (locale: Locale, id: MessageId, parameter = ''): string =>
  messages[locale][id].replace('{parameter}', parameter);
