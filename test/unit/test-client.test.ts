import { PHONE_LINKS_MODES } from '../../functions/tunables';
import { InvalidParameter, RuleViolation } from '../../functions/domain/errors';
import { computeSignature, SIGNED_FIELD_FORMATS } from '../../functions/domain/signature';
import { ok, refused } from '../../functions/http/envelope';
import { nonce, signatureOf, signedSendQuery } from '../support/app-client';
import { LINKED, refusal, refusalBody, UNLINKED } from '../support/envelopes';
import { LINK_MODES } from '../support/link-modes';

/** What the service answers, as the harness reads it: the HTTP status and the envelope. */
const asRead = (result: { statusCode: number; body: string }) => ({ status: result.statusCode, ...(JSON.parse(result.body) as Record<string, unknown>) });

describe('the test client', () => {
  describe('nonce', () => {
    it('is 16 characters of [A-Za-z0-9], as the service requires of random', () => {
      for (let i = 0; i < 200; i++) {
        const random = nonce();
        expect(random).toMatch(/^[A-Za-z0-9]{16}$/);
        expect(random).toMatch(SIGNED_FIELD_FORMATS.random);
      }
    });

    it('is fresh each time, drawn from the whole alphabet', () => {
      const drawn = Array.from({ length: 2_000 }, nonce);
      expect(new Set(drawn).size).toBe(drawn.length);
      // 32 000 characters: each of the 62 is missing with odds below 1e-200.
      expect(new Set(drawn.join('')).size).toBe(62);
    });
  });

  describe('signatureOf', () => {
    const parts = { phone: '13800138000', codeType: '6', random: 'AbCdEfGh12345678', ts: '1764064800000' };

    it("is the contract's digest, the service's own for well-formed fields", () => {
      // printf '%s' 13800138000 6 AbCdEfGh12345678 1764064800000 s3cret | sha256sum
      expect(signatureOf(parts, 's3cret')).toBe('dbea3b3d6034276b91134213052a7fad710e2098596a1ecbd4d973b5c248da6a');
      expect(signatureOf(parts, 's3cret')).toBe(computeSignature(parts, 's3cret'));
      expect(signatureOf({ ...parts, phone: '+86 138 0013 8000' }, 'other')).toBe(computeSignature({ ...parts, phone: '+86 138 0013 8000' }, 'other'));
    });

    it('signs what the service refuses to, an absent field as empty', () => {
      const malformed = { ...parts, random: 'short' };
      expect(() => computeSignature(malformed, 's3cret')).toThrow(InvalidParameter);
      expect(signatureOf(malformed, 's3cret')).toMatch(/^[0-9a-f]{64}$/);
      expect(signatureOf({ phone: parts.phone, random: parts.random, ts: parts.ts }, 's3cret')).toBe(signatureOf({ ...parts, codeType: '' }, 's3cret'));
    });
  });

  describe('signedSendQuery', () => {
    const request = { phone: '13800138000', internationalCode: '86', codeType: '3', userDomain: 'test.phonelink' };

    it('sends the request with a fresh nonce and the signature over its fields as sent', () => {
      const query = signedSendQuery({ ...request, ts: 1764064800000 }, 's3cret');
      expect(query).toEqual({ ...request, random: expect.stringMatching(SIGNED_FIELD_FORMATS.random), ts: '1764064800000', signature: expect.any(String) });
      expect(query.signature).toBe(computeSignature({ phone: query.phone!, codeType: query.codeType!, random: query.random!, ts: query.ts! }, 's3cret'));
      expect(signedSendQuery(request, 's3cret').random).not.toBe(query.random);
    });

    it('is stamped now unless told otherwise', () => {
      const before = Date.now();
      const ts = Number(signedSendQuery(request, 's3cret').ts);
      expect(ts).toBeGreaterThanOrEqual(before);
      expect(ts).toBeLessThanOrEqual(Date.now());
    });
  });

  describe('expected answers', () => {
    it('a refusal is what the service answers when it refuses', () => {
      expect(refusal(5037, 'SMS verification code failed')).toEqual(asRead(refused('en', new RuleViolation(5037))));
      expect(refusalBody(400, 'Invalid parameter: ts')).toEqual(JSON.parse(refused('en', new InvalidParameter('ts')).body));
    });

    it('LINKED and UNLINKED are the answers of a link and an unlink', () => {
      expect(LINKED).toEqual(asRead(ok('en', 'linked')));
      expect(UNLINKED).toEqual(asRead(ok('en', 'unlinked')));
    });
  });

  it('runs the suites about links in every mode the config knows', () => {
    expect(LINK_MODES).toEqual(PHONE_LINKS_MODES);
  });
});
