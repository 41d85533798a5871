import type { Clock } from '../clock';
import type { CodeRules } from '../domain/code-rules';
import type { UserProvisioning } from '../domain/user-provisioning';
import { refuse } from '../domain/errors';
import type { PhoneNumber } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { CODE_PATTERN, hashCode, type CodePurpose } from '../domain/verification-code';
import type { PhoneLinks, Users, VerificationCodes } from '../ports';
import { checkCode } from './check-code';
import { Turns } from '../backoff';
import { Deadline } from '../request-budget';
import { knownUser } from './known-user';
import { given } from './parameters';

export interface DeletePhoneRelationRequest {
  readonly uid: string;
  readonly code?: string;
  /** The request's; a whole budget from now when called outside one. */
  readonly deadline?: Deadline;
}

export interface DeletePhoneRelationDependencies {
  readonly users: Pick<Users, 'find'>;
  readonly links: Pick<PhoneLinks, 'unlinkPhone'>;
  readonly codes: Pick<VerificationCodes, 'find' | 'recordWrongTry'>;
  readonly clock: Clock;
  readonly codeRules: CodeRules;
  readonly provisioning: UserProvisioning;
}

/** Proven by a codeType 4 code (or its alias 7). */
const PURPOSE: CodePurpose = 'unlink';

/**
 * DELETE /v2/enduser/enduserapi/deletePhoneRelation: unlinks the signed-in
 * user's phone, proven by the latest codeType 4 (or 7) code sent to that phone.
 * Checks run in the contract's order; the first that fails answers. A user
 * that changed meanwhile is read again, within the request's deadline.
 */
export async function deletePhoneRelation(
  request: DeletePhoneRelationRequest,
  deps: DeletePhoneRelationDependencies,
): Promise<{ phone: PhoneNumber }> {
  const code = given(request.code) ?? refuse(ResultCode.CodeRequired);

  const deadline = request.deadline ?? Deadline.fullBudgetFromNow();
  const turns = new Turns(deadline);
  for (;;) {
    const user = knownUser(request.uid, await deps.users.find(request.uid), deps.provisioning);
    // A user known on first use has no phone yet: 5384 like any user without one.
    const phone = user.phone ?? refuse(ResultCode.NoPhoneBound);
    // A code that is not six digits is wrong without looking anything up.
    if (!CODE_PATTERN.test(code)) refuse(ResultCode.SmsCodeFailed);

    const now = deps.clock.now();
    const candidateHash = hashCode(deps.codeRules.pepper, phone, PURPOSE, code);
    const stored = await deps.codes.find(phone, PURPOSE);
    await checkCode({ stored, candidateHash, phone, purpose: PURPOSE, now, deadline }, deps);

    const outcome = await deps.links.unlinkPhone({
      uid: user.uid,
      phone,
      proof: { purpose: PURPOSE, codeHash: candidateHash, maxWrongTries: deps.codeRules.maxWrongTries },
      now,
      deadline,
    });
    if (outcome === 'unlinked') return { phone };
    if (outcome === 'code-rejected') refuse(ResultCode.SmsCodeFailed);
    await turns.next();
  }
}
