import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type RemoteJWKSetOptions,
} from 'jose';
import type { AuthConfig } from '../../config';
import { isUserId } from '../../domain/user-id';
import { count } from '../../observability';
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

/** How the remote key set is fetched and kept: jose's own options, so jose does the caching. */
export type KeySetTiming = Pick<RemoteJWKSetOptions, 'timeoutDuration' | 'cooldownDuration' | 'cacheMaxAge'>;

export const KEY_SET_TIMING = {
  // A fetch gives up after 5 s (docs/API.md), well inside the function's timeout.
  timeoutDuration: 5_000,
  // After a successful fetch, a token with an unknown `kid` refetches the set at most
  // once per 30 s, so made-up kids cannot turn every request into a fetch.
  cooldownDuration: 30_000,
  // A set older than 10 minutes is fetched again before it is used: this bounds how
  // long a key the login service withdrew keeps verifying new tokens.
  cacheMaxAge: 10 * 60_000,
} satisfies KeySetTiming;

/**
 * jose takes `{"keys": []}` for a key set, and would refuse every token with
 * it (5032), logging every app out for as long as it is served. Failing the
 * fetch instead makes it an outage like any other: jose keeps the last good
 * set, and a token it cannot verify without a new one is our fault (500).
 */
const fetchKeySetWithKeys: FetchImplementation = async (url, options) => {
  const response = await fetch(url, options);
  if (response.status === 200 && hasNoKeys(await response.clone().json().catch(() => undefined))) {
    throw new errors.JWKSInvalid('The key set has no keys');
  }
  return response;
};

/** `{"keys": []}`: any other body, a valid key set or not, is left to jose. */
function hasNoKeys(body: unknown): boolean {
  const keys = (body as { keys?: unknown } | null | undefined)?.keys;
  return Array.isArray(keys) && keys.length === 0;
}

/**
 * Everything jose throws about the token itself, the only errors that refuse
 * it (5032). An allow-list: any other error, such as a key set that could not
 * be had, or an error class a jose upgrade adds, is a fault and never logs
 * users out.
 */
const TOKEN_ERRORS = [
  errors.JWSInvalid, // not a compact JWS: parts, base64url, a header that is not JSON
  errors.JWTInvalid, // a payload that is not a JSON object
  errors.JOSEAlgNotAllowed, // not RS256 or ES256
  errors.JOSENotSupported, // a `crit` header extension (algorithms are checked before it, keys after)
  errors.JWSSignatureVerificationFailed,
  errors.JWTExpired,
  errors.JWTClaimValidationFailed, // `exp` missing, `nbf` ahead, `iss` not ours
  errors.JWKSNoMatchingKey, // its `kid` is in no key of a set we did get
];

/** The key set could not be had: the service's fault, which the envelope answers with HTTP 500. */
export class KeySetUnavailable extends Error {
  constructor(cause: unknown) {
    super('The key set to verify tokens with could not be obtained', { cause });
    this.name = 'KeySetUnavailable';
  }
}

/**
 * Verifies the platform's access tokens with jose. The key set is built once
 * per container: a remote JWKS is fetched on first use and cached by jose
 * across invocations (see KEY_SET_TIMING). A failed fetch (a set with no
 * keys included) leaves the cached set in place, but once the set is older
 * than `cacheMaxAge` jose will not verify with it: every token then waits
 * for a successful fetch.
 */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly verified = new Map<string, { uid: string; until: number }>();

  /** `timing` is for tests: production runs on KEY_SET_TIMING. */
  constructor(
    private readonly config: AuthConfig,
    timing: KeySetTiming = {},
  ) {
    this.keys =
      'jwksUrl' in config.keys
        ? createRemoteJWKSet(new URL(config.keys.jwksUrl), { ...KEY_SET_TIMING, ...timing, [customFetch]: fetchKeySetWithKeys })
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
    const payload = await this.verifiedPayload(token);
    const { uid, type } = payload;
    // A uid the admin interface could not address would be a user nobody can erase.
    if (!isUserId(uid)) throw new InvalidToken('no uid, or one breaking the uid rule');
    if (type !== 'AccessToken') throw new InvalidToken('not an access token');
    // requiredClaims makes jose check that `exp` is there, a number, and in the future.
    return { uid, exp: payload.exp as number };
  }

  private async verifiedPayload(token: string): Promise<JWTPayload> {
    const options: JWTVerifyOptions = {
      algorithms: ALGORITHMS,
      requiredClaims: ['exp'],
      ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
    };
    try {
      return (await jwtVerify(token, this.keys, options)).payload;
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) return tryEachKey(token, error, options);
      throw classified(error);
    }
  }
}

/**
 * A token with no `kid` that several keys of the set could have signed (a
 * rotation under way): jose leaves the choice to us. It is valid if one of
 * them verifies it; a 5032 only when none does.
 */
async function tryEachKey(token: string, candidates: errors.JWKSMultipleMatchingKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
  for await (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw classified(error);
    }
  }
  throw new InvalidToken(errors.JWSSignatureVerificationFailed.code);
}

/** A token error refuses the token (5032); anything else is the key set's fault, counted and answered 500. */
function classified(error: unknown): Error {
  if (error instanceof errors.JOSEError && TOKEN_ERRORS.some((TokenError) => error instanceof TokenError)) return new InvalidToken(error.code);
  // Whatever else failed, it was not the token: the key set is jwtVerify's only other input.
  count('KeySetFailures');
  return new KeySetUnavailable(error);
}
