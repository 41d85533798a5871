import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidParameter } from './errors';

/** The fields the app signs, each exactly as sent. */
export interface SignedFields {
  readonly phone: string;
  readonly codeType: string;
  readonly random: string;
  readonly ts: string;
}

/**
 * The signed string is a plain concatenation, so only these formats fix
 * where one field ends and the next begins: everything after the phone has a
 * fixed length, and `ts` cannot start with a `0` that once ended `random`.
 * Looser formats let a captured request be re-cut into another one with the
 * same signature (a phone digit shifted into `codeType`, `random` shifted, a
 * `0` put in front of `ts`).
 */
export const SIGNED_FIELD_FORMATS = {
  codeType: /^\d$/,
  random: /^[A-Za-z0-9]{16}$/,
  // Milliseconds since the epoch: 13 digits from 2001 to 2286.
  ts: /^[1-9]\d{12}$/,
} as const satisfies Record<Exclude<keyof SignedFields, 'phone'>, RegExp>;

type FormattedField = keyof typeof SIGNED_FIELD_FORMATS;

/** The first field, in the contract's order (codeType, random, ts), whose format is wrong; undefined when all hold. */
export function malformedSignedField(fields: SignedFields): FormattedField | undefined {
  const names = Object.keys(SIGNED_FIELD_FORMATS) as FormattedField[];
  return names.find((name) => !SIGNED_FIELD_FORMATS[name].test(fields[name]));
}

/**
 * The app's request signature: hex SHA-256 of
 * `phone + codeType + random + ts + userDomainSecret`, each exactly as sent.
 * Computed in lowercase; clients send lowercase, and any case is accepted.
 *
 * Refuses fields whose format does not fix their boundaries (400 "Invalid
 * parameter: <name>"): over those, one digest would stand for several
 * requests, so no caller may ever compare against it.
 */
export const computeSignature = (parts: SignedFields, secret: string): string => {
  const malformed = malformedSignedField(parts);
  if (malformed !== undefined) throw new InvalidParameter(malformed);
  return createHash('sha256')
    .update(parts.phone + parts.codeType + parts.random + parts.ts + secret, 'utf8')
    .digest('hex');
};

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
