import { parsePhoneNumberFromString, type CountryCallingCode } from 'libphonenumber-js/core';
import { callingCodeOf } from './countries';
import { ResultCode } from './result-codes';
import { RuleViolation } from './errors';
import { mobileMetadata } from './phone-metadata';

/** A mobile number that passed validation, in the forms the service stores. */
export interface PhoneNumber {
  /** `+8613800138000` */
  readonly e164: string;
  /** Country calling code, digits only: `86`. */
  readonly callingCode: string;
  /** National significant number: `13800138000`. */
  readonly nationalNumber: string;
}

/** A number as a request gave it, once valid: the phone and the country it rings in. */
export interface NormalizedPhone extends PhoneNumber {
  /**
   * ISO 3166 alpha-2 country of the number (`CN`; `US` or `CA` under +1),
   * or `+<calling code>` for a number of no country (+800, +882...).
   */
  readonly country: string;
}

/** ISO 3166 alpha-2 countries SMS may go to (SMS pumping defence); undefined = all. */
export type CountryAllowList = ReadonlySet<string> | undefined;

// Separators people type inside a number; the contract drops them.
const SEPARATORS = /[\s\-.()]/g;
const MAX_INPUT_LENGTH = 64;

const formatIncorrect = (): never => {
  throw new RuleViolation(ResultCode.PhoneFormatIncorrect);
};

/**
 * `86`, `+86` or `0086` -> `86`. Anything else, or a calling code no country
 * uses, is a format error (5019).
 */
export const parseCallingCode = (internationalCode: string): string => callingCodeOf(internationalCode) ?? formatIncorrect();

export interface PhoneRules {
  /** ISO 3166 alpha-2 countries SMS may go to; undefined = all. */
  readonly allowedCountries?: CountryAllowList;
  /** Applies to a national number given without `internationalCode` (where it is optional). */
  readonly domesticCallingCode?: string;
}

/**
 * Validates and normalises a phone as the contract defines it: `phone` is the
 * national number (separators dropped) of the country `internationalCode`
 * names (or the domestic one, where `internationalCode` is optional and
 * absent), or a whole international number when it starts with `+`, which
 * names its own country: an `internationalCode` given beside it must name
 * the same one. Only numbers that can be mobiles pass (SMS goes to mobiles
 * only), and only in the allowed countries when a list is configured.
 */
export function normalizePhone(phone: string, internationalCode: string | undefined, rules: PhoneRules = {}): NormalizedPhone {
  if (phone.length > MAX_INPUT_LENGTH) return formatIncorrect();
  const compact = phone.replace(SEPARATORS, '');
  const assumedCallingCode = compact.startsWith('+') ? undefined : rules.domesticCallingCode;
  const given = internationalCode ?? assumedCallingCode;
  const callingCode = given === undefined ? undefined : parseCallingCode(given);

  let parsed;
  if (compact.startsWith('+')) {
    if (!/^\+\d{4,17}$/.test(compact)) return formatIncorrect();
    parsed = parsePhoneNumberFromString(compact, mobileMetadata);
  } else {
    if (callingCode === undefined || !/^\d{4,17}$/.test(compact)) return formatIncorrect();
    // Parsed in its national form, so a trunk prefix (UK 07911...) is understood.
    parsed = parsePhoneNumberFromString(compact, { defaultCallingCode: callingCode as CountryCallingCode }, mobileMetadata);
  }
  // The "mobile" metadata makes isValid() mean "valid mobile (or can't-tell) number".
  if (!parsed?.isValid()) return formatIncorrect();
  if (callingCode !== undefined && parsed.countryCallingCode !== callingCode) return formatIncorrect();
  // A country SMS is not sent to is refused like a malformed number: no SMS, no hint.
  const { allowedCountries } = rules;
  if (allowedCountries && !(parsed.country && allowedCountries.has(parsed.country))) return formatIncorrect();
  return {
    e164: parsed.number,
    callingCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
    country: parsed.country ?? `+${parsed.countryCallingCode}`,
  };
}
