import { createHash } from 'node:crypto';
import { computeSignature, signatureMatches } from '../../functions/domain/signature';

describe('request signature', () => {
  const parts = { phone: '13800138000', codeType: '6', random: 'AbCdEfGh12345678', ts: '1764064800000' };

  it('is lowercase hex SHA-256 of phone + codeType + random + ts + secret', () => {
    const expected = createHash('sha256').update('13800138000' + '6' + 'AbCdEfGh12345678' + '1764064800000' + 's3cret').digest('hex');
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
});
