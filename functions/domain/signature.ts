import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The app's request signature: lowercase hex SHA-256 of
 * `phone + codeType + random + ts + userDomainSecret`, each exactly as sent.
 */
export const computeSignature = (
  parts: { phone: string; codeType: string; random: string; ts: string },
  secret: string,
): string =>
  createHash('sha256')
    .update(parts.phone + parts.codeType + parts.random + parts.ts + secret, 'utf8')
    .digest('hex');

export const signatureMatches = (expected: string, given: string): boolean => {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
};
