import type { Clock } from '../clock';
import type { CodeRules } from '../domain/code-rules';
import type { UserProvisioning } from '../domain/user-provisioning';
import { refuse } from '../domain/errors';
import { normalizePhone, type PhoneNumber } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { CODE_PATTERN, hashCode } from '../domain/verification-code';
import type { PhoneLinks, VerificationCodes } from '../ports';
import type { Deadline } from '../request-budget';
import { checkCode } from './check-code';
import { LINK_PURPOSE, linkPhoneToUser, type TypedCode } from './link-phone';
import { given } from './parameters';

export interface RelationPhoneRequest {
  readonly uid: string;
  readonly phone?: string;
  readonly code?: string;
  readonly internationalCode?: string;
  /** The request's; a whole budget from now when called outside one. */
  readonly deadline?: Deadline;
}

export interface RelationPhoneDependencies {
  readonly links: Pick<PhoneLinks, 'findUserWithCode' | 'linkPhone'>;
  readonly codes: Pick<VerificationCodes, 'recordWrongTry'>;
  readonly clock: Clock;
  readonly codeRules: CodeRules;
  readonly provisioning: UserProvisioning;
}

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
  const candidateHash = hashCode(deps.codeRules.pepper, phone, LINK_PURPOSE, code);
  const typed: TypedCode = {
    // A code that is not six digits is wrong without looking anything up.
    wellFormed: CODE_PATTERN.test(code),
    verify: (stored, now) => checkCode({ stored, candidateHash, phone, purpose: LINK_PURPOSE, now, deadline: request.deadline }, deps),
    proof: { purpose: LINK_PURPOSE, codeHash: candidateHash, maxWrongTries: deps.codeRules.maxWrongTries },
  };
  await linkPhoneToUser({ uid: request.uid, phone, code: typed, provisioning: deps.provisioning, deadline: request.deadline }, deps);
  return { phone };
}
