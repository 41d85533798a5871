import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { PhoneNumber } from './phone';

/**
 * What an app asks a code for, in the platform's own numbering: 3
 * (registration) links a phone, 4 (cancellation) gives it up. 6 and 7 are
 * accepted as their aliases. The platform's other types (1 reset, 2 login,
 * 5 push recipient) belong to other services.
 */
export type CodeType = '3' | '4' | '6' | '7';

/**
 * What a code proves: `link` (types 3 and 6, consumed by relationPhone) or
 * `unlink` (types 4 and 7, consumed by deletePhoneRelation). A type and its
 * alias are one purpose: they share the latest code, its cooldown and its tries.
 */
export type CodePurpose = 'link' | 'unlink';

const PURPOSE_OF: Readonly<Record<CodeType, CodePurpose>> = { '3': 'link', '6': 'link', '4': 'unlink', '7': 'unlink' };

/** The code type as sent, or undefined for any other value. */
export const parseCodeType = (value: string | undefined): CodeType | undefined =>
  value !== undefined && Object.hasOwn(PURPOSE_OF, value) ? (value as CodeType) : undefined;

export const purposeOf = (codeType: CodeType): CodePurpose => PURPOSE_OF[codeType];

export const CODE_PATTERN = /^\d{6}$/;

/** Six decimal digits from a cryptographic source. */
export const generateCode = (): string => randomInt(0, 1_000_000).toString().padStart(6, '0');

/**
 * The only form a code is stored in: HMAC-SHA256 under a server-side pepper,
 * bound to its phone and purpose so a stored hash means nothing elsewhere.
 */
export const hashCode = (pepper: string, phone: PhoneNumber, purpose: CodePurpose, code: string): string =>
  createHmac('sha256', pepper).update(`${purpose}:${phone.e164}:${code}`).digest('hex');

/** Constant-time comparison of two hex digests. */
export const sameHash = (a: string, b: string): boolean => {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
};

/** The state a stored code is kept in between its send and its use. */
export interface StoredCode {
  /** Absent once the code was consumed. */
  readonly codeHash?: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly wrongTries: number;
}

export type CodeVerdict = 'valid' | 'wrong' | 'unusable';

/**
 * Judges a candidate against the latest code for its (phone, purpose):
 * unusable when none was sent, it was used, it expired, or it is void after
 * too many wrong tries; wrong when it simply does not match.
 */
export function judgeCode(
  stored: StoredCode | undefined,
  candidateHash: string,
  now: number,
  maxWrongTries: number,
): CodeVerdict {
  if (!stored?.codeHash || stored.expiresAt <= now || stored.wrongTries >= maxWrongTries) return 'unusable';
  return sameHash(stored.codeHash, candidateHash) ? 'valid' : 'wrong';
}
