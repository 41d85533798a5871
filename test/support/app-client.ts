import { createHash, randomInt } from 'node:crypto';
import type { SignedFields } from '../../functions/domain/signature';

/*
 * What the app does as a client of the API, in one place for the test
 * suites, the deployed checks and the bench: a fresh nonce, the request
 * signature, a signed sendPhoneSmsCode query. Node's crypto alone, so that
 * a bench run (no jest) loads it as readily as a suite.
 */

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh request nonce as the contract shapes it: 16 characters of [A-Za-z0-9]. */
export const nonce = (): string => Array.from({ length: 16 }, () => NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)]).join('');

/**
 * The contract's signature: hex SHA-256 of `phone + codeType + random + ts +
 * userDomainSecret`, each as sent, an absent one as empty. Written out rather
 * than built on `computeSignature`, which refuses malformed fields: a test
 * must be able to sign what the service refuses (a malformed field, a re-cut
 * request). test/unit/test-client.test.ts holds the two against each other.
 */
export const signatureOf = (fields: Partial<SignedFields>, secret: string): string =>
  createHash('sha256')
    .update(`${fields.phone ?? ''}${fields.codeType ?? ''}${fields.random ?? ''}${fields.ts ?? ''}${secret}`, 'utf8')
    .digest('hex');

export interface SendRequest {
  readonly phone: string;
  readonly internationalCode: string;
  readonly codeType: string;
  readonly userDomain: string;
  /** Milliseconds since the epoch; now unless said. */
  readonly ts?: number;
}

/** A sendPhoneSmsCode query as the app builds it: a fresh nonce, `ts`, and the signature over the values as sent. */
export function signedSendQuery(request: SendRequest, secret: string): Record<string, string> {
  const { phone, internationalCode, codeType, userDomain } = request;
  const signed = { phone, codeType, random: nonce(), ts: String(request.ts ?? Date.now()) };
  return { phone, internationalCode, codeType, userDomain, random: signed.random, ts: signed.ts, signature: signatureOf(signed, secret) };
}
