import type { CodeRules } from '../domain/code-rules';
import { refuse } from '../domain/errors';
import type { PhoneNumber } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { judgeCode, type CodePurpose, type StoredCode } from '../domain/verification-code';
import type { VerificationCodes } from '../ports';
import type { Deadline } from '../request-budget';

/**
 * 5037 unless the candidate is the stored, fresh, unused, not-void code. A
 * wrong candidate counts one try against the stored code.
 */
export async function checkCode(
  check: { stored: StoredCode | undefined; candidateHash: string; phone: PhoneNumber; purpose: CodePurpose; now: number; deadline?: Deadline },
  deps: { codes: Pick<VerificationCodes, 'recordWrongTry'>; codeRules: CodeRules },
): Promise<void> {
  const { stored, candidateHash, phone, purpose, now, deadline } = check;
  const verdict = judgeCode(stored, candidateHash, now, deps.codeRules.maxWrongTries);
  if (verdict === 'wrong' && stored?.codeHash) await deps.codes.recordWrongTry(phone, purpose, stored.codeHash, deadline);
  if (verdict !== 'valid') refuse(ResultCode.SmsCodeFailed);
}
