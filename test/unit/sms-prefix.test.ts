import { InvalidParameter } from '../../functions/domain/errors';
import { normalizePhone } from '../../functions/domain/phone';
import { parsePrefix, prefixOf } from '../../functions/domain/sms-prefix';

describe('the prefix of a number', () => {
  it.each([
    ['+447920123456', 'GB-792', 'GB'],
    ['+447911123456', 'GG-791', 'GG'],
    ['+8613800138000', 'CN-138', 'CN'],
    ['+14165550123', 'CA-416', 'CA'],
  ])('%s is in %s', (e164, name, country) => {
    expect(prefixOf(normalizePhone(e164, undefined), 3)).toEqual({ name, country });
  });

  it('takes as many digits as configured', () => {
    expect(prefixOf(normalizePhone('+8613800138000', undefined), 5).name).toBe('CN-13800');
  });
});

describe('a prefix as the admin routes name it', () => {
  it.each(['GB-792', 'GG-791', 'CN-138', 'XK-441'])('takes %s', (raw) => {
    expect(parsePrefix(raw, 3)).toEqual({ name: raw, country: raw.slice(0, 2) });
  });

  it('takes a calling code of no country', () => {
    expect(parsePrefix('+882-123', 3)).toEqual({ name: '+882-123', country: '+882' });
  });

  it.each([undefined, '', 'GB', 'GB-79', 'GB-7920', 'gb-792', 'UK-792', 'ZZ-123', 'GB792', 'GB-79a', ' GB-792', '+86-138', '+999-123', 'GB--792', 'GB-792/x'])(
    'refuses %p with 400 "Invalid parameter: prefix"',
    (raw) => {
      expect(() => parsePrefix(raw, 3)).toThrow(InvalidParameter);
      expect(() => parsePrefix(raw, 3)).toThrow('Invalid parameter: prefix');
    },
  );
});
