import { InvalidParameter } from '../../functions/domain/errors';
import { computeSignature, malformedSignedField, signatureMatches, type SignedFields } from '../../functions/domain/signature';

describe('request signature', () => {
  const parts = { phone: '13800138000', codeType: '6', random: 'AbCdEfGh12345678', ts: '1764064800000' };

  it('is lowercase hex SHA-256 of phone + codeType + random + ts + secret', () => {
    // printf '%s' 13800138000 6 AbCdEfGh12345678 1764064800000 s3cret | sha256sum
    const expected = 'dbea3b3d6034276b91134213052a7fad710e2098596a1ecbd4d973b5c248da6a';
    expect(computeSignature(parts, 's3cret')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('covers each part exactly as sent', () => {
    const base = computeSignature(parts, 's3cret');
    expect(computeSignature({ ...parts, phone: '138 0013 8000' }, 's3cret')).not.toBe(base);
    expect(computeSignature({ ...parts, ts: '1764064800001' }, 's3cret')).not.toBe(base);
    expect(computeSignature(parts, 'other')).not.toBe(base);
  });

  it('matches the same digest in any letter case, and nothing else', () => {
    const signature = computeSignature(parts, 's3cret');
    const mixedCase = signature.replace(/[a-f]/g, (letter, at: number) => (at % 2 === 0 ? letter.toUpperCase() : letter));
    expect(mixedCase).not.toBe(signature);
    expect(signatureMatches(signature, signature)).toBe(true);
    expect(signatureMatches(signature, signature.toUpperCase())).toBe(true);
    expect(signatureMatches(signature, mixedCase)).toBe(true);
    expect(signatureMatches(signature, computeSignature(parts, 'other').toUpperCase())).toBe(false);
    expect(signatureMatches(signature, signature.slice(1))).toBe(false);
    expect(signatureMatches(signature, `${signature}0`)).toBe(false);
    // Buffer.from(hex) would stop at the first non-hex character; the format is checked whole.
    expect(signatureMatches(signature, `${signature.slice(0, 62)}zz`)).toBe(false);
    expect(signatureMatches(signature, ` ${signature.slice(1)}`)).toBe(false);
    expect(signatureMatches(signature, '')).toBe(false);
  });

  it.each<[string, Partial<SignedFields>, string]>([
    ['codeType of two digits', { codeType: '33' }, 'codeType'],
    ['codeType empty', { codeType: '' }, 'codeType'],
    ['codeType not a digit', { codeType: 'x' }, 'codeType'],
    ['random of 15 characters', { random: 'AbCdEfGh1234567' }, 'random'],
    ['random of 17 characters', { random: 'AbCdEfGh123456789' }, 'random'],
    ['random outside [A-Za-z0-9]', { random: 'AbCdEfGh1234567-' }, 'random'],
    ['random with a non-ASCII letter', { random: 'AbCdEfGh1234567é' }, 'random'],
    ['ts with a leading zero', { ts: '01764064800000' }, 'ts'],
    ['ts of 12 digits', { ts: '176406480000' }, 'ts'],
    ['ts of 14 digits', { ts: '17640648000000' }, 'ts'],
    ['ts of 13 characters starting with 0', { ts: '0764064800000' }, 'ts'],
    ['ts with a sign', { ts: '+1764064800000' }, 'ts'],
    ['ts with a trailing newline', { ts: '1764064800000\n' }, 'ts'],
    ['ts in full-width digits', { ts: '１７６４０６４８０００００' }, 'ts'],
    ['several wrong: codeType first', { codeType: '33', random: 'short', ts: '0' }, 'codeType'],
    ['random and ts wrong: random first', { random: 'short', ts: '0' }, 'random'],
  ])('refuses to sign %s: 400 naming the field', (_case, change, field) => {
    expect(malformedSignedField({ ...parts, ...change })).toBe(field);
    expect(() => computeSignature({ ...parts, ...change }, 's3cret')).toThrow(InvalidParameter);
    expect(() => computeSignature({ ...parts, ...change }, 's3cret')).toThrow(`Invalid parameter: ${field}`);
  });

  it('accepts the formats the contract gives', () => {
    expect(malformedSignedField(parts)).toBeUndefined();
    expect(malformedSignedField({ phone: '+49 1761 2345676', codeType: '3', random: 'zZ09azAZ19yYxX00', ts: '1000000000000' })).toBeUndefined();
  });

  it('leaves exactly one way to cut a signed string into well-formed fields', () => {
    // The captured request of issue 13 (a German phone ending in 6, a random
    // ending in 0) and a plain one: every other split is refused.
    const requests: SignedFields[] = [
      { phone: '17612345676', codeType: '3', random: 'Kx7Qm2Vb9Lp4Rt80', ts: '1764064800000' },
      parts,
    ];
    for (const request of requests) {
      const signed = request.phone + request.codeType + request.random + request.ts;
      const wellFormedCuts: SignedFields[] = [];
      for (let a = 1; a < signed.length; a++) {
        for (let b = a + 1; b < signed.length; b++) {
          for (let c = b + 1; c < signed.length; c++) {
            const cut = { phone: signed.slice(0, a), codeType: signed.slice(a, b), random: signed.slice(b, c), ts: signed.slice(c) };
            if (malformedSignedField(cut) === undefined) wellFormedCuts.push(cut);
          }
        }
      }
      expect(wellFormedCuts).toEqual([request]);
    }
  });
});
