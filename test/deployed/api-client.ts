import { pathTo, ROUTES } from '../../functions/http/routes';
import { signedSendQuery } from '../support/app-client';
import type { Deployment } from './deployment';

/** The contract's answer. */
export interface Envelope {
  code: number;
  msg: string;
  data: Record<string, unknown> | null;
}

/**
 * The app, the login service and an operator, as a deployment's callers:
 * requests through its HTTP API, codes read from the SMS its SNS stand-in
 * took. Every phone number, code, token and secret it handles is noted in
 * `sensitive`, for the check that no log shows one.
 */
export class DeployedClient {
  readonly sensitive = new Set<string>();

  constructor(
    private readonly deployment: Deployment,
    private readonly userDomain: string,
  ) {
    this.secret(deployment.pepper);
    Object.values(deployment.domainSecrets).forEach((value) => this.secret(value));
  }

  secret(value: string): string {
    this.sensitive.add(value);
    return value;
  }

  /** A request through the deployed API; an answer that is not the envelope fails with the function's logs. */
  async call(method: string, path: string, options: { query?: Record<string, string>; token?: string; json?: unknown } = {}): Promise<Envelope> {
    const answer = await this.deployment.api.request({
      method,
      path,
      query: options.query,
      json: options.json,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
    if (answer.status !== 200) {
      const logs = answer.functionId ? this.deployment.functions.get(answer.functionId)?.process.output() : undefined;
      throw new Error(`${method} ${path} answered HTTP ${answer.status} ${answer.body}\n${logs ?? '(API Gateway answered itself)'}`);
    }
    return JSON.parse(answer.body) as Envelope;
  }

  /** sendPhoneSmsCode, signed as the app signs it with its user domain's secret. */
  sendCode(phone: string, codeType: '3' | '4'): Promise<Envelope> {
    const secret = this.deployment.domainSecrets[this.userDomain];
    if (secret === undefined) throw new Error(`the deployment has no secret for ${this.userDomain}`);
    const query = signedSendQuery({ phone, internationalCode: '86', codeType, userDomain: this.userDomain }, secret);
    return this.call('POST', ROUTES.sendPhoneSmsCode.path, { query });
  }

  /** The code in the latest SMS the SNS stub took for the number: its only run of six digits. */
  smsCode(phone: string): string {
    const texts = this.deployment.standIns.sms.get(`+86${phone}`) ?? [];
    const code = /\b(\d{6})\b/.exec(texts.at(-1) ?? '')?.[1];
    if (code === undefined) throw new Error(`no SMS with a code reached +86${phone}: ${JSON.stringify(texts)}`);
    return this.secret(code);
  }

  async codeFor(phone: string, codeType: '3' | '4'): Promise<string> {
    const sent = await this.sendCode(this.secret(phone), codeType);
    if (sent.code !== 200) throw new Error(`sendPhoneSmsCode answered ${JSON.stringify(sent)}`);
    return this.smsCode(phone);
  }

  /** relationPhone's request, for callers that want the raw answer (a crash answers HTTP 500). */
  linkRequest = (token: string, phone: string, code: string) =>
    ({ method: 'POST', path: ROUTES.relationPhone.path, query: { phone, code, internationalCode: '86' }, headers: { authorization: `Bearer ${token}` } }) as const;

  link = (token: string, phone: string, code: string) => this.call('POST', ROUTES.relationPhone.path, { token, query: { phone, code, internationalCode: '86' } });
  userInfo = (token: string) => this.call('GET', ROUTES.userInfo.path, { token });
  unlink = (token: string, code: string) => this.call('DELETE', ROUTES.deletePhoneRelation.path, { token, query: { code } });
  admin = (method: string, uid: string, suffix: '' | '/phone' = '', json?: unknown) =>
    this.call(method, pathTo(suffix === '/phone' ? ROUTES.adminLinkPhone : ROUTES.adminGetUser, { uid }), { json });
  token = async (uid: string) => this.secret(await this.deployment.login.signAccessToken(uid));
}
