import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The app's request signature: hex SHA-256 of
 * `phone + codeType + random + ts + userDomainSecret`, each exactly as sent.
 * Computed in lowercase; clients send lowercase, and any case is accepted.
 */
export const computeSignature = (
  parts: { phone: string; codeType: string; random: string; ts: string },
  secret: string,
): string =>
  createHash('sha256')
    .update(parts.phone + parts.codeType + parts.random + parts.ts + secret, 'utf8')
    .digest('hex');

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * Whether a given signature is the expected digest, in any letter case.
 * The bytes are compared in constant time; the format check before it
 * depends on the given string alone, never on the secret.
 */
export const signatureMatches = (expected: string, given: string): boolean => {
  if (!SHA256_HEX.test(given) || !SHA256_HEX.test(expected)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
};
