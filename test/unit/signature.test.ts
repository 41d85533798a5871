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

  it('matches only the identical string', () => {
    const signature = computeSignature(parts, 's3cret');
    expect(signatureMatches(signature, signature)).toBe(true);
    expect(signatureMatches(signature, signature.toUpperCase())).toBe(false);
    expect(signatureMatches(signature, signature.slice(1))).toBe(false);
    expect(signatureMatches(signature, '')).toBe(false);
  });
});
