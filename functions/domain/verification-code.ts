import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { PhoneNumber } from './phone';

/** What a code is for: 6 links a phone (relationPhone), 7 unlinks it (deletePhoneRelation). */
export type CodeType = '6' | '7';

export const CODE_PATTERN = /^\d{6}$/;

/** Six decimal digits from a cryptographic source. */
export const generateCode = (): string => randomInt(0, 1_000_000).toString().padStart(6, '0');

/**
 * The only form a code is stored in: HMAC-SHA256 under a server-side pepper,
 * bound to its phone and purpose so a stored hash means nothing elsewhere.
 */
export const hashCode = (pepper: string, phone: PhoneNumber, codeType: CodeType, code: string): string =>
  createHmac('sha256', pepper).update(`${codeType}:${phone.e164}:${code}`).digest('hex');

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
 * Judges a candidate against the latest code for its (phone, codeType):
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
