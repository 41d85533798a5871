import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

/**
 * Local stand-in for the platform's login service: an ES256 key pair made at
 * start-up. Its public half is the key set the handlers verify against; its
 * private half signs tokens for `POST /_local/users`.
 */
export interface LocalTokenIssuer {
  /** `{"keys": [...]}`, as JWKS_JSON. */
  readonly jwksJson: string;
  signAccessToken(uid: string, options?: { expiresInSeconds?: number }): Promise<string>;
}

export async function createLocalTokenIssuer(): Promise<LocalTokenIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return {
    jwksJson: JSON.stringify({ keys: [jwk] }),
    signAccessToken: (uid, options = {}) => sign(privateKey, kid, uid, options.expiresInSeconds ?? 24 * 3600),
  };
}

const sign = (key: CryptoKey, kid: string, uid: string, expiresInSeconds: number): Promise<string> =>
  new SignJWT({ uid, type: 'AccessToken' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(key);
