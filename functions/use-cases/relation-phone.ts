import type { Clock } from '../clock';
import type { CodeRules } from '../config';
import { refuse } from '../domain/errors';
import { normalizePhone, type PhoneNumber } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { CODE_PATTERN, hashCode, type CodePurpose } from '../domain/verification-code';
import type { PhoneLinks, VerificationCodes } from '../ports';
import { checkCode } from './check-code';
import { backOff, MAX_CONFLICT_ATTEMPTS as MAX_ATTEMPTS } from '../backoff';
import { given } from './parameters';

export interface RelationPhoneRequest {
  readonly uid: string;
  readonly phone?: string;
  readonly code?: string;
  readonly internationalCode?: string;
}

export interface RelationPhoneDependencies {
  readonly links: PhoneLinks;
  readonly codes: Pick<VerificationCodes, 'recordWrongTry'>;
  readonly clock: Clock;
  readonly codeRules: CodeRules;
}

/** Proven by a codeType 3 code (or its alias 6). */
const PURPOSE: CodePurpose = 'link';

/**
 * POST /v2/enduser/enduserapi/relationPhone: links a phone to the signed-in
 * user, proven by the latest codeType 3 (or 6) code sent to it. Checks run in the
 * contract's order; the first that fails answers.
 */
export async function relationPhone(
  request: RelationPhoneRequest,
  deps: RelationPhoneDependencies,
): Promise<{ phone: PhoneNumber }> {
  const phoneText = given(request.phone) ?? refuse(ResultCode.PhoneRequired);
  const code = given(request.code) ?? refuse(ResultCode.CodeRequired);
  // Optional here: absent, the domestic calling code applies to a national number.
  const phone = normalizePhone(phoneText, given(request.internationalCode), deps.codeRules);
  // A code that is not six digits is wrong without looking anything up.
  const wellFormed = CODE_PATTERN.test(code);
  const candidateHash = hashCode(deps.codeRules.pepper, phone, PURPOSE, code);

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = deps.clock.now();
    const found = await deps.links.findUserWithCode(
      request.uid,
      wellFormed ? { phone, purpose: PURPOSE } : undefined,
    );
    const user = found.user ?? refuse(ResultCode.UserDoesNotExist);
    if (!wellFormed) refuse(ResultCode.SmsCodeFailed);

    await checkCode({ stored: found.code, candidateHash, phone, purpose: PURPOSE, now }, deps);

    // The code is checked before the owner: only someone holding the phone learns it is taken.
    const outcome = await deps.links.linkPhone({
      uid: user.uid,
      previousPhone: user.phone,
      phone,
      proof: { purpose: PURPOSE, codeHash: candidateHash, maxWrongTries: deps.codeRules.maxWrongTries },
      now,
    });
    if (outcome === 'linked') return { phone };
    if (outcome === 'code-rejected') refuse(ResultCode.SmsCodeFailed);
    if (outcome === 'phone-taken') refuse(ResultCode.PhoneAlreadyRegistered);
    await backOff(attempt);
  }
  throw new Error(`relationPhone: user ${request.uid} kept changing over ${MAX_ATTEMPTS} attempts`);
}
