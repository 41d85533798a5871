import type * as Jose from 'jose';
import { SignJWT, errors, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { JoseTokenVerifier, KeySetUnavailable } from '../../functions/adapters/auth/jose-token-verifier';
import { InvalidToken } from '../../functions/ports';

// The real jose, with jwtVerify watched: remembering a token means not verifying it again.
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof Jose>('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
const verifications = jwtVerify as jest.MockedFunction<typeof jwtVerify>;

describe('JoseTokenVerifier', () => {
  const start = Date.parse('2026-11-25T12:00:00Z');
  let verifier: JoseTokenVerifier;
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    let publicKey: CryptoKey;
    ({ publicKey, privateKey } = await generateKeyPair('ES256'));
    publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    verifier = new JoseTokenVerifier({ keys: { jwksJson: JSON.stringify({ keys: [{ ...publicJwk, kid: 'k1' }] }) }, issuer: undefined });
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
  });
  beforeEach(() => {
    // Time stands still between the steps, so the boundaries below are exact however slow the machine.
    jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    verifications.mockClear();
  });
  afterEach(() => jest.useRealTimers());

  it('remembers a verified token, but never past its exp', async () => {
    const token = await sign({ uid: 'u1', type: 'AccessToken', exp: start / 1000 + 60 });
    await expect(verifier.verify(token)).resolves.toEqual({ uid: 'u1' });
    jest.setSystemTime(start + 59_000);
    await expect(verifier.verify(token)).resolves.toEqual({ uid: 'u1' });
    expect(verifications).toHaveBeenCalledTimes(1);

    jest.setSystemTime(start + 60_000);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('remembers a token for 5 minutes at most, then verifies it again', async () => {
    const token = await sign({ uid: 'u1', type: 'AccessToken', exp: start / 1000 + 3600 });
    await verifier.verify(token);
    jest.setSystemTime(start + 5 * 60_000 - 1);
    await verifier.verify(token);
    expect(verifications).toHaveBeenCalledTimes(1);

    jest.setSystemTime(start + 5 * 60_000);
    await expect(verifier.verify(token)).resolves.toEqual({ uid: 'u1' });
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('remembers nothing about a token that failed', async () => {
    const token = await sign({ uid: 'u1', type: 'RefreshToken', exp: start / 1000 + 60 });
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  // The token's own faults beyond the usual ones (token-attacks.test.ts has those).
  it('refuses a token naming a header extension it does not support', async () => {
    const claims = { uid: 'u1', type: 'AccessToken', exp: start / 1000 + 60 };
    const withExtension = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', crit: ['x-ext'], 'x-ext': 1 })
      .sign(privateKey, { crit: { 'x-ext': true } });
    await expect(verifier.verify(withExtension)).rejects.toThrow(new InvalidToken('ERR_JOSE_NOT_SUPPORTED'));
  });

  // A rotation under way: two keys in the set, tokens without a kid. jose leaves the choice of key to us.
  it('verifies a token without a kid with whichever key of the set signed it, and refuses one that none did', async () => {
    const claims = { uid: 'u1', type: 'AccessToken', exp: start / 1000 + 60 };
    const other = await generateKeyPair('ES256');
    const otherJwk = { ...(await exportJWK(other.publicKey)), alg: 'ES256' };
    const twoKeys = new JoseTokenVerifier({ keys: { jwksJson: JSON.stringify({ keys: [publicJwk, otherJwk] }) }, issuer: undefined });
    const byFirst = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const bySecond = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
    await expect(twoKeys.verify(byFirst)).resolves.toEqual({ uid: 'u1' });
    await expect(twoKeys.verify(bySecond)).resolves.toEqual({ uid: 'u1' });

    const stranger = await generateKeyPair('ES256');
    const byNeither = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(stranger.privateKey);
    await expect(twoKeys.verify(byNeither)).rejects.toThrow(new InvalidToken('ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
    const expired = await new SignJWT({ ...claims, exp: start / 1000 - 1 }).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
    await expect(twoKeys.verify(expired)).rejects.toThrow(new InvalidToken('ERR_JWT_EXPIRED'));
  });

  // jose answers a key set that is not 200 or not JSON with a bare JOSEError; new classes may come with upgrades.
  it.each([
    ['the bare JOSEError of a failed fetch', new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response')],
    ['a jose error class it does not list', new errors.JWEDecryptionFailed()],
    ['a network error', new TypeError('fetch failed')],
  ])('treats %s as a fault, not a bad token', async (_, failure) => {
    verifications.mockRejectedValueOnce(failure);
    const token = await sign({ uid: 'u1', type: 'AccessToken', exp: start / 1000 + 60 });
    const refusal = verifier.verify(token);
    await expect(refusal).rejects.toThrow(KeySetUnavailable);
    await expect(refusal).rejects.toMatchObject({ cause: failure });
  });
});
