import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { JoseTokenVerifier } from '../../functions/adapters/auth/jose-token-verifier';
import { InvalidToken } from '../../functions/ports';

describe('JoseTokenVerifier', () => {
  const start = Date.parse('2026-11-25T12:00:00Z');
  let verifier: JoseTokenVerifier;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    verifier = new JoseTokenVerifier({ keys: { jwksJson: JSON.stringify({ keys: [jwk] }) }, issuer: undefined });
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
  });
  beforeEach(() => jest.useFakeTimers({ now: start, advanceTimers: true }));
  afterEach(() => jest.useRealTimers());

  it('remembers a verified token, but never past its exp', async () => {
    const token = await sign({ uid: 'u1', type: 'AccessToken', exp: start / 1000 + 60 });
    await expect(verifier.verify(token)).resolves.toEqual({ uid: 'u1' });
    jest.setSystemTime(start + 59_000);
    await expect(verifier.verify(token)).resolves.toEqual({ uid: 'u1' });
    jest.setSystemTime(start + 60_000);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
  });

  it('remembers nothing about a token that failed', async () => {
    const token = await sign({ uid: 'u1', type: 'RefreshToken', exp: start / 1000 + 60 });
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidToken);
  });
});
