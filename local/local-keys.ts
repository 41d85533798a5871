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

/** `issuer`: the `iss` the tokens carry, so that a JWT_ISSUER set locally checks them rather than refusing them all. */
export async function createLocalTokenIssuer(options: { issuer?: string } = {}): Promise<LocalTokenIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return {
    jwksJson: JSON.stringify({ keys: [jwk] }),
    signAccessToken: (uid, signOptions = {}) => sign(privateKey, kid, uid, signOptions.expiresInSeconds ?? 24 * 3600, options.issuer),
  };
}

/**
 * While tokens are verified against a login service's key set, no token
 * can be made here: anything that still asks for one is told why.
 */
export const tokensFromLoginServiceOnly = (jwksUrl: string): LocalTokenIssuer => ({
  jwksJson: JSON.stringify({ keys: [] }),
  signAccessToken: () => Promise.reject(new Error(`No local tokens: tokens are verified against the key set at ${jwksUrl} (JWKS_URL)`)),
});

const sign = (key: CryptoKey, kid: string, uid: string, expiresInSeconds: number, issuer: string | undefined): Promise<string> => {
  const token = new SignJWT({ uid, type: 'AccessToken' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds);
  return (issuer === undefined ? token : token.setIssuer(issuer)).sign(key);
};
