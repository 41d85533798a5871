import { generateCode, hashCode, judgeCode, parseCodeType, purposeOf, sameHash, type StoredCode } from '../../functions/domain/verification-code';

const phone = { e164: '+8613800138000', callingCode: '86', nationalNumber: '13800138000' };

describe('verification codes', () => {
  it('are six decimal digits, leading zeros kept', () => {
    const codes = Array.from({ length: 2000 }, generateCode);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(1900);
  });

  it('are stored as a keyed hash bound to pepper, phone and purpose', () => {
    const hash = hashCode('pepper', phone, 'link', '123456');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('123456');
    expect(hashCode('other', phone, 'link', '123456')).not.toBe(hash);
    expect(hashCode('pepper', phone, 'unlink', '123456')).not.toBe(hash);
    expect(hashCode('pepper', { ...phone, e164: '+8613800138001' }, 'link', '123456')).not.toBe(hash);
  });

  it('compares hashes in full', () => {
    const hash = hashCode('pepper', phone, 'link', '123456');
    expect(sameHash(hash, hash)).toBe(true);
    expect(sameHash(hash, hashCode('pepper', phone, 'link', '123457'))).toBe(false);
    expect(sameHash(hash, '')).toBe(false);
    expect(sameHash('', '')).toBe(false);
  });
});

describe('code types', () => {
  it('3 and its alias 6 link a phone; 4 and its alias 7 unlink it', () => {
    expect(['3', '6', '4', '7'].map((type) => purposeOf(parseCodeType(type)!))).toEqual(['link', 'link', 'unlink', 'unlink']);
  });

  it.each(['1', '2', '5', '8', '0', '', '33', ' 3', '3 ', 'link', 'toString', '__proto__', undefined])('refuses %p', (type) => {
    expect(parseCodeType(type)).toBeUndefined();
  });
});

describe('judgeCode', () => {
  const now = 1_000_000;
  const hash = hashCode('pepper', phone, 'link', '123456');
  const stored: StoredCode = { codeHash: hash, issuedAt: now - 1000, expiresAt: now + 1000, wrongTries: 0 };

  it('accepts the latest code while it is fresh', () => {
    expect(judgeCode(stored, hash, now, 5)).toBe('valid');
  });

  it('calls a mismatch wrong', () => {
    expect(judgeCode(stored, hashCode('pepper', phone, 'link', '000000'), now, 5)).toBe('wrong');
  });

  it.each([
    ['none was sent', undefined],
    ['it was used', { ...stored, codeHash: undefined }],
    ['it expired', { ...stored, expiresAt: now }],
    ['it is void after 5 wrong tries', { ...stored, wrongTries: 5 }],
  ])('finds it unusable when %s', (_reason, code) => {
    expect(judgeCode(code as StoredCode | undefined, hash, now, 5)).toBe('unusable');
  });
});
