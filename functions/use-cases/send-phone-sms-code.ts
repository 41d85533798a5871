import type { Clock } from '../clock';
import type { CodeRules } from '../domain/code-rules';
import type { SendLimits } from '../domain/send-limits';
import type { SignatureRules } from '../domain/signature-rules';
import { InvalidParameter, refuse, RuleViolation } from '../domain/errors';
import { smsText, type Locale } from '../domain/messages';
import { normalizePhone, type NormalizedPhone } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { computeSignature, SIGNED_FIELD_FORMATS, signatureMatches } from '../domain/signature';
import { generateCode, hashCode, parseCodeType, purposeOf } from '../domain/verification-code';
import { count, logger, maskPhone, type MetricName } from '../observability';
import { SmsRefused, type Breaker, type CodeIssue, type CodeIssuer, type SmsSender } from '../ports';
import type { Deadline } from '../request-budget';
import { given } from './parameters';

export interface SendPhoneSmsCodeRequest {
  readonly phone?: string;
  readonly internationalCode?: string;
  readonly codeType?: string;
  readonly userDomain?: string;
  readonly random?: string;
  readonly ts?: string;
  readonly signature?: string;
  readonly sourceIp: string;
  /** The language the SMS is written in. */
  readonly locale: Locale;
  /** The request's; a whole budget from now when called outside one. */
  readonly deadline?: Deadline;
}

export interface SendPhoneSmsCodeDependencies {
  readonly issuer: CodeIssuer;
  readonly sms: SmsSender;
  readonly clock: Clock;
  readonly codeRules: CodeRules;
  readonly sendLimits: SendLimits;
  readonly signatureRules: SignatureRules;
}

/**
 * POST /v2/sms/enduserapi/v2/sendPhoneSmsCode. Checks run in the contract's
 * order; the first that fails answers.
 */
export async function sendPhoneSmsCode(
  request: SendPhoneSmsCodeRequest,
  deps: SendPhoneSmsCodeDependencies,
): Promise<{ phone: NormalizedPhone }> {
  const phone = given(request.phone) ?? refuse(ResultCode.PhoneRequired);
  const internationalCode = given(request.internationalCode) ?? refuse(ResultCode.InternationalCodeRequired);
  const userDomain = given(request.userDomain) ?? refuse(ResultCode.UserDomainRequired);
  const signature = given(request.signature) ?? refuse(ResultCode.SignatureRequired);
  const codeType = parseCodeType(request.codeType) ?? invalid('codeType');
  const random = matching(request.random, SIGNED_FIELD_FORMATS.random, 'random');
  const ts = matching(request.ts, SIGNED_FIELD_FORMATS.ts, 'ts');
  const number = normalizePhone(phone, internationalCode, { allowedCountries: deps.codeRules.allowedCountries });

  // 5420: unknown domain, bad signature or clock skew; a used `random` below.
  const now = deps.clock.now();
  const secret = deps.signatureRules.userDomainSecrets.get(userDomain);
  const expected = secret && computeSignature({ phone, codeType, random, ts }, secret);
  const skewed = Math.abs(now - Number(ts)) > deps.signatureRules.maxClockSkewSeconds * 1000;
  if (!expected || !signatureMatches(expected, signature) || skewed) refuse(ResultCode.SignatureVerificationFailed);

  const code = generateCode();
  const purpose = purposeOf(codeType);
  const issue: CodeIssue = {
    phone: number,
    purpose,
    codeHash: hashCode(deps.codeRules.pepper, number, purpose, code),
    issuedAt: now,
    expiresAt: now + deps.codeRules.codeTtlSeconds * 1000,
    sourceIp: request.sourceIp,
    userDomain,
    random,
    nonceExpiresAt: now + deps.signatureRules.nonceTtlSeconds * 1000,
  };
  const outcome = await deps.issuer.issue(issue, deps.sendLimits, request.deadline);
  if (outcome.kind === 'replayed') return refuse(ResultCode.SignatureVerificationFailed);
  if (outcome.kind === 'rate-limited') {
    for (const breaker of outcome.trippedBreakers) count(BREAKER_TRIPS[breaker]);
    if (outcome.trippedBreakers.length > 0) logger.warn('Send breaker full', { breakers: outcome.trippedBreakers, country: number.country });
    return refuse(ResultCode.SmsFrequencyLimited);
  }

  try {
    await deps.sms.send(number.e164, smsText(request.locale, code, deps.codeRules.codeTtlSeconds));
  } catch (failure) {
    // 5059 either way; what stays behind depends on whether the SMS can have gone out.
    if (failure instanceof SmsRefused) {
      // Nothing went out: the code must not stay valid, nor count against the cooldown and the caps.
      logger.warn('SMS refused by the provider: code withdrawn, send not counted', { phone: maskPhone(number.e164), reason: failure.message });
      count('SmsRefused');
      await deps.issuer.withdraw(outcome.issued, request.deadline);
    } else {
      // It may have reached the phone: the code stays valid and counted, so a slow provider cannot lift the limits.
      logger.warn('SMS outcome unknown: code kept valid, send counted', { phone: maskPhone(number.e164), reason: nameOf(failure) });
      count('SmsOutcomeUnknown');
    }
    throw new RuleViolation(ResultCode.SmsSendingFailed, { cause: failure });
  }
  return { phone: number };
}

const BREAKER_TRIPS: Readonly<Record<Breaker, MetricName>> = { country: 'CountryBreakerTrips', global: 'GlobalBreakerTrips' };

const nameOf = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

const invalid = (name: string): never => {
  throw new InvalidParameter(name);
};

function matching(value: string | undefined, pattern: RegExp, name: string): string {
  if (value === undefined || !pattern.test(value)) return invalid(name);
  return value;
}
