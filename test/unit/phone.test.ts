import { normalizePhone, parseCallingCode } from '../../functions/domain/phone';
import { RuleViolation } from '../../functions/domain/errors';

const formatError = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof RuleViolation ? error.code : error;
  }
  return 'no error';
};

describe('normalizePhone', () => {
  const china = { e164: '+8613800138000', callingCode: '86', nationalNumber: '13800138000', country: 'CN' };

  it.each([
    ['13800138000', '86'],
    ['138 0013 8000', '86'],
    ['138-0013-8000', '+86'],
    ['(138) 0013.8000', '0086'],
    ['+8613800138000', undefined],
    ['+86 138 0013 8000', '86'],
    ['13800138000', ' 86 '],
  ])('maps %p with internationalCode %p to E.164', (phone, internationalCode) => {
    expect(normalizePhone(phone, internationalCode)).toEqual(china);
  });

  it('understands a national trunk prefix', () => {
    expect(normalizePhone('07911 123456', '44')).toEqual({
      e164: '+447911123456',
      callingCode: '44',
      nationalNumber: '7911123456',
      // 07911 numbers ring in Guernsey, which shares +44 with the UK.
      country: 'GG',
    });
  });

  it('names the country a number rings in, also where countries share a calling code', () => {
    expect(normalizePhone('(202) 555-0123', '1').country).toBe('US');
    expect(normalizePhone('(604) 555-0123', '1').country).toBe('CA');
    expect(normalizePhone('+4915112345678', undefined).country).toBe('DE');
  });

  it('passes numbers of countries whose plan cannot tell mobile from fixed line (US)', () => {
    expect(normalizePhone('(202) 555-0123', '1').e164).toBe('+12025550123');
  });

  it.each([
    ['01012345678', '86', 'a Beijing fixed line'],
    ['02079460000', '44', 'a London fixed line'],
    ['1380013800', '86', 'too short'],
    ['138001380001', '86', 'too long'],
    ['abc', '86', 'letters'],
    ['+', '86', 'a bare plus'],
    ['13800138000', '999', 'a calling code no country uses'],
    ['13800138000', '86a', 'a malformed calling code'],
    ['13800138000', '+0086', 'two prefixes'],
    ['+8613800138000', '1', 'an international number of another country'],
    ['+8613800138000', 'x', 'a malformed calling code beside an international number'],
    ['1'.repeat(200), '86', 'a huge input'],
    ['１３８００１３８０００', '86', 'full-width digits'],
  ])('refuses %p (%s) with 5019', (phone, internationalCode) => {
    expect(formatError(() => normalizePhone(phone, internationalCode))).toBe(5019);
  });

  it('needs a calling code for a national number', () => {
    expect(formatError(() => normalizePhone('13800138000', undefined))).toBe(5019);
  });

  it('gives a national number without internationalCode the domestic calling code', () => {
    expect(normalizePhone('138 0013 8000', undefined, { domesticCallingCode: '86' })).toEqual(china);
  });

  it.each(['+447911123456', ' +44 7911 123456', '(+44) 7911-123456'])('lets %p name its own country, whatever the domestic default', (phone) => {
    expect(normalizePhone(phone, undefined, { domesticCallingCode: '86' }).e164).toBe('+447911123456');
  });
});

describe('parseCallingCode', () => {
  it.each([
    ['86', '86'],
    ['+86', '86'],
    ['0086', '86'],
    ['1', '1'],
    ['+1', '1'],
    ['001', '1'],
    ['44', '44'],
  ])('reads %p as %p', (given, expected) => {
    expect(parseCallingCode(given)).toBe(expected);
  });
});
