import fc from 'fast-check';
import { getCountries, getCountryCallingCode, getExampleNumber } from 'libphonenumber-js/mobile';
import examples from 'libphonenumber-js/mobile/examples';
import { normalizePhone } from '../../functions/domain/phone';
import { RuleViolation } from '../../functions/domain/errors';

/** A valid mobile number of every country the metadata knows. */
const validNumbers = getCountries()
  .map((country) => getExampleNumber(country, examples))
  .filter((example) => example !== undefined && example.isValid())
  .map((example) => ({
    e164: example!.number as string,
    callingCode: getCountryCallingCode(example!.country!) as string,
    national: example!.nationalNumber as string,
  }));

/** Separators people type, dropped by the contract. */
const separator = fc.constantFrom('', ' ', '-', '.', '(', ')', '  ', '\t');

/** The digits with separators sprinkled between them. */
const spelled = (digits: string) =>
  fc.array(separator, { minLength: digits.length, maxLength: digits.length }).map((seps) =>
    [...digits].map((digit, i) => seps[i] + digit).join(''),
  );

const callingCodeSpelling = (code: string) => fc.constantFrom(code, `+${code}`, `00${code}`, ` ${code} `);

/** The E.164 a spelling maps to, or the code of the RuleViolation it throws; anything else escapes. */
function outcomeOf(run: () => string): string {
  try {
    return run();
  } catch (error) {
    if (error instanceof RuleViolation) return String(error.code);
    throw error;
  }
}

describe('phone normalisation (properties)', () => {
  it(`maps any accepted spelling of a valid mobile to its E.164, for ${validNumbers.length} countries`, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validNumbers).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.oneof(
              // national number beside its calling code
              fc.tuple(spelled(n.national), callingCodeSpelling(n.callingCode)),
              // whole international number, with or without a matching calling code
              fc.tuple(spelled(n.e164.slice(1)).map((s) => `+${s}`), fc.constantFrom<string | undefined>(undefined, n.callingCode, `+${n.callingCode}`)),
            ),
          ),
        ),
        ([number, [phone, internationalCode]]) => {
          expect(normalizePhone(phone, internationalCode).e164).toBe(number.e164);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses anything else with 5019 and nothing but 5019', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), (phone, internationalCode) => {
        expect(outcomeOf(() => normalizePhone(phone, internationalCode).e164)).toMatch(/^(\+[1-9]\d{6,15}|5019)$/);
      }),
      { numRuns: 3000 },
    );
  });
});
