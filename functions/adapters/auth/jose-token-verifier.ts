import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../../config';
import { InvalidToken, type TokenVerifier } from '../../ports';

/** Asymmetric algorithms only: an HS* or `none` token is refused before any key is looked at. */
const ALGORITHMS = ['RS256', 'ES256'];
/** Tokens far larger than any the login issues are refused unread. */
const MAX_TOKEN_LENGTH = 8192;
/**
 * An app sends the same token with every request until it expires: a token
 * that verified is remembered (its uid, until its `exp`, at most 5 minutes)
 * so the signature is not checked again on each request of a warm container.
 */
const REMEMBER_MS = 5 * 60_000;
const MAX_REMEMBERED = 1000;

/**
 * Verifies the platform's access tokens with jose. The key set is built once
 * per container: a remote JWKS is fetched on first use and cached by jose
 * across invocations (refetched when an unknown `kid` shows up).
 */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly verified = new Map<string, { uid: string; until: number }>();

  constructor(private readonly config: AuthConfig) {
    this.keys =
      'jwksUrl' in config.keys
        ? createRemoteJWKSet(new URL(config.keys.jwksUrl))
        : createLocalJWKSet(JSON.parse(config.keys.jwksJson));
  }

  async verify(token: string): Promise<{ uid: string }> {
    const remembered = this.verified.get(token);
    if (remembered && remembered.until > Date.now()) return { uid: remembered.uid };
    this.verified.delete(token);
    const { uid, exp } = await this.verifyAfresh(token);
    if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
    this.verified.set(token, { uid, until: Math.min(exp * 1000, Date.now() + REMEMBER_MS) });
    return { uid };
  }

  private async verifyAfresh(token: string): Promise<{ uid: string; exp: number }> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidToken('token too large');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
      }));
    } catch (error) {
      // The key service being down is our fault, not the token's: let it surface as a 500.
      if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
        throw error;
      }
      throw new InvalidToken(error.code);
    }
    const { uid, type } = payload;
    if (typeof uid !== 'string' || uid === '' || uid.length > 128) throw new InvalidToken('no uid');
    if (type !== 'AccessToken') throw new InvalidToken('not an access token');
    // requiredClaims makes jose check that `exp` is there, a number, and in the future.
    return { uid, exp: payload.exp as number };
  }
}
