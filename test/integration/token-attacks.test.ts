import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { InvalidToken } from '../../functions/ports';
import { recordCalls } from '../support/faults';
import { createHarness, PHONE, type Answer, type Harness } from '../support/harness';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hour = () => Math.floor(Date.now() / 1000) + 3600;

/** Uids outside the one uid rule (1-128 characters of `[A-Za-z0-9._:@-]`, other than `.` and `..`). */
const UIDS_BREAKING_THE_RULE = ['user name', 'a/b', '.', '..', 'PHONE#+8613912345678', 'u'.repeat(129), 'ü', 'a%2Fb'];

/**
 * Forged, stale and malformed tokens on every authenticated endpoint: each is
 * 5032 (5106 when there is no token at all), and not one reaches DynamoDB.
 */
describe('token attacks', () => {
  let h: Harness;
  let calls: string[];
  let uid: string;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    ({ uid } = await h.newUser());
    calls = recordCalls(h.app.db).operations;
    const jwks = JSON.parse(h.app.tokenIssuer.jwksJson) as { keys: Record<string, string>[] };
    const localKey = jwks.keys[0]!;
    const valid = await h.app.tokenIssuer.signAccessToken(uid);
    const [header, , signature] = valid.split('.');
    const other = await generateKeyPair('ES256');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sign = (claims: Record<string, unknown>, key = other.privateKey, protectedHeader: Record<string, string> = { alg: 'ES256', kid: localKey.kid! }) =>
      new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(key);
    // HS256 keyed with the public key the server trusts: the classic algorithm confusion.
    const confusedHeader = b64({ alg: 'HS256', kid: localKey.kid });
    const confusedPayload = b64({ uid, type: 'AccessToken', exp: hour() });
    const publicPem = await exportSPKI((await importJWK(localKey, 'ES256')) as CryptoKey);
    const confusedSignature = createHmac('sha256', publicPem).update(`${confusedHeader}.${confusedPayload}`).digest('base64url');

    tokens = {
      'alg none': `${b64({ alg: 'none' })}.${b64({ uid, type: 'AccessToken', exp: hour() })}.`,
      'HS256 keyed with the public key': `${confusedHeader}.${confusedPayload}.${confusedSignature}`,
      'signed by a foreign key under the trusted kid': await sign({ uid, type: 'AccessToken', exp: hour() }),
      'unknown kid': await sign({ uid, type: 'AccessToken', exp: hour() }, other.privateKey, { alg: 'ES256', kid: 'not-a-known-key' }),
      'RS256 from a foreign key': await sign({ uid, type: 'AccessToken', exp: hour() }, rsa.privateKey as never, { alg: 'RS256' }),
      expired: await h.app.tokenIssuer.signAccessToken(uid, { expiresInSeconds: -1 }),
      'not yet valid': await new SignJWT({ uid, type: 'AccessToken' })
        .setProtectedHeader({ alg: 'ES256', kid: localKey.kid! })
        .setNotBefore(hour())
        .setExpirationTime(hour() + 60)
        .sign(other.privateKey),
      'tampered payload': `${header}.${b64({ uid: 'someone-else', type: 'AccessToken', exp: hour() })}.${signature}`,
      'signature stripped': `${header}.${valid.split('.')[1]}.`,
      oversized: `${header}.${b64({ uid, type: 'AccessToken', exp: hour(), pad: 'x'.repeat(20_000) })}.${signature}`,
      'three dots of nothing': '..',
      garbage: 'definitely-not-a-jwt',
      'unicode garbage': '令牌.🙂.\u0000',
    };
    // Genuine tokens, but for uids the admin interface could never address (nor erase): refused like forgeries.
    for (const badUid of UIDS_BREAKING_THE_RULE) {
      tokens[`genuine, but uid ${JSON.stringify(badUid)} breaks the uid rule`] = await h.tokenWithoutUser(badUid);
    }
  });
  afterAll(() => h.close());

  const endpoints: Record<string, (token: string) => Promise<Answer>> = {
    relationPhone: (token) => h.link(token, { phone: PHONE, code: '123456' }),
    userInfo: (token) => h.userInfo(token),
    deletePhoneRelation: (token) => h.unlink(token, { code: '123456' }),
  };

  it.each(Object.keys(endpoints))('%s: every forged or malformed token is 5032, with no database call', async (endpoint) => {
    for (const [attack, token] of Object.entries(tokens)) {
      calls.length = 0;
      const answer = await endpoints[endpoint]!(token);
      expect({ attack, code: answer.code, status: answer.status, calls }).toEqual({ attack, code: 5032, status: 200, calls: [] });
    }
  });

  it('a genuine token gets through (control)', async () => {
    const { token } = await h.newUser();
    expect((await h.userInfo(token)).code).toBe(200);
  });

  it('tokens whose claims are wrong are refused though correctly signed', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    // A harness that trusts this key, so only the claims are at fault.
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const { JoseTokenVerifier } = await import('../../functions/adapters/auth/jose-token-verifier');
    const verifier = new JoseTokenVerifier({ keys: { jwksJson: JSON.stringify({ keys: [jwk] }) }, issuer: undefined });
    const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    await expect(verifier.verify(await sign({ uid: 'u1', type: 'AccessToken', exp: hour() }))).resolves.toEqual({ uid: 'u1' });
    for (const claims of [
      { type: 'AccessToken', exp: hour() },
      { uid: '', type: 'AccessToken', exp: hour() },
      { uid: 42, type: 'AccessToken', exp: hour() },
      { uid: 'u1', type: 'RefreshToken', exp: hour() },
      { uid: 'u1', exp: hour() },
      { uid: 'u1', type: 'AccessToken' },
    ]) {
      await expect(verifier.verify(await sign(claims))).rejects.toThrow(InvalidToken);
    }
  });

  it.each(['', 'Bearer', 'Bearer    ', 'bearer\t'])('no token at all (%p) is 5106, with no database call', async (header) => {
    calls.length = 0;
    const answer = await h.userInfo(undefined, { Authorization: header });
    expect({ code: answer.code, calls }).toEqual({ code: 5106, calls: [] });
  });
});
