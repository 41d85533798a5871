import { randomUUID } from 'node:crypto';
import { ROUTES } from '../functions/http/routes';
import { lambdaContext, toApiGatewayEvent } from '../local/api-gateway-event';
import type { LocalApp } from '../local/app';
import { signedSendQuery } from '../test/support/app-client';

export const USER_DOMAIN = 'bench.phonelink';
export const USER_DOMAIN_SECRET = 'bench-domain-secret';
export const CODE_PEPPER = 'bench-pepper-0123456789abcdef';
export const CALLING_CODE = '86';

export const RELATION_PHONE_PATH = ROUTES.relationPhone.path;
export const SEND_CODE_PATH = ROUTES.sendPhoneSmsCode.path;

/** Limits out of the way, for apps that prepare many codes quickly (the cooldown and caps still run). */
export const GENEROUS_LIMITS = {
  SMS_COOLDOWN_SECONDS: '0',
  SMS_MAX_PER_PHONE_PER_DAY: '1000000',
  SMS_MAX_PER_IP_PER_HOUR: '1000000',
  SMS_MAX_PER_MINUTE: '1000000',
  SMS_MAX_PER_COUNTRY_PER_MINUTE: '1000000',
};

/** A user with a token and a fresh, unused code for a phone nobody holds: one successful link. */
export interface LinkFixture {
  readonly uid: string;
  readonly token: string;
  /** National number, as the app sends it. */
  readonly phone: string;
  readonly e164: string;
  readonly code: string;
}

/** Distinct mobile numbers: `<prefix><8 digits>`, e.g. 138 00000001 (a valid CN mobile range). */
export class PhoneNumbers {
  private next = 1;
  constructor(private readonly prefix: '137' | '138' | '139' | '150') {}
  take(): string {
    return `${this.prefix}${String(this.next++).padStart(8, '0')}`;
  }
}

/** The query of a signed sendPhoneSmsCode request, as the app builds it. */
export const sendQuery = (phone: string, now = Date.now()): string =>
  new URLSearchParams(signedSendQuery({ phone, internationalCode: CALLING_CODE, codeType: '3', userDomain: USER_DOMAIN, ts: now }, USER_DOMAIN_SECRET)).toString();

export const relationPhoneQuery = (query: { phone: string; code?: string }): string =>
  new URLSearchParams({ ...query, internationalCode: CALLING_CODE }).toString();

/**
 * Prepares link fixtures through the real paths: each uid is new to the
 * service (known on first use: the link creates its record), the code is
 * sent by the real sendPhoneSmsCode handler and read back from the local outbox.
 */
export async function prepareLinks(app: LocalApp, phones: PhoneNumbers, count: number, concurrency = 8): Promise<LinkFixture[]> {
  const fixtures: LinkFixture[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const uid = `bench-${randomUUID()}`;
      const phone = phones.take();
      const e164 = `+${CALLING_CODE}${phone}`;
      const event = toApiGatewayEvent({ method: 'POST', path: SEND_CODE_PATH, rawQueryString: sendQuery(phone), headers: {}, sourceIp: '198.51.100.1' });
      const result = await app.handlers.sendPhoneSmsCode(event, lambdaContext('sendPhoneSmsCode'));
      const answer = JSON.parse(result.body) as { code: number };
      if (answer.code !== 200) throw new Error(`Could not prepare a code for ${e164}: ${result.body}`);
      const code = /\d{6}/.exec(app.outbox.messagesTo(e164).at(-1)?.text ?? '')?.[0];
      if (!code) throw new Error(`No code in the outbox for ${e164}`);
      fixtures[index] = { uid, token: await app.tokenIssuer.signAccessToken(uid), phone, e164, code };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return fixtures;
}
