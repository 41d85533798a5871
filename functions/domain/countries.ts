import { COUNTRY_CALLING_CODES } from './phone-metadata.generated';

/**
 * What a country is, and a calling code, for the functions and for
 * `cdk synth` alike: the ones of the phone metadata the functions bundle
 * (phone-metadata.generated.ts), so a country is one whose numbers the
 * service can name. Built on first use, so that a bundle which never asks
 * does no work at its cold start.
 */

/** `001` marks the calling codes of no country (+800, +882...). */
const NO_COUNTRY = '001';

let countries: ReadonlySet<string> | undefined;
let callingCodes: ReadonlySet<string> | undefined;

/** Every ISO 3166 alpha-2 country a number range belongs to (`CN`, `GB`, `GG`...): the countries SMS can go to. */
export function smsCountries(): ReadonlySet<string> {
  countries ??= new Set(Object.values(COUNTRY_CALLING_CODES).flat().filter((country) => country !== NO_COUNTRY));
  return countries;
}

/** Calling codes some country uses (`86`, `1`, ...): not the non-geographic ones such as 800. */
export function countryCallingCodes(): ReadonlySet<string> {
  callingCodes ??= new Set(
    Object.entries(COUNTRY_CALLING_CODES)
      .filter(([, members]) => members.some((country) => country !== NO_COUNTRY))
      .map(([callingCode]) => callingCode),
  );
  return callingCodes;
}

/**
 * Codes people write for a country whose ISO 3166 code is another: the
 * United Kingdom's own usage, and the European Union's for Greece. Said in
 * the refusal, since `UK` would otherwise match no number at all.
 */
const ISO_CODE_OF: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** The ISO code meant by a code that is not one (`UK` -> `GB`), if it is a known slip. */
export const isoCodeMeantBy = (code: string): string | undefined => ISO_CODE_OF[code];

const CALLING_CODE = /^(?:\+|00)?([1-9]\d{0,2})$/;

/** `86`, `+86` or `0086` -> `86`, when some country uses that calling code; undefined for anything else. */
export function callingCodeOf(text: string): string | undefined {
  const digits = CALLING_CODE.exec(text.trim())?.[1];
  return digits !== undefined && countryCallingCodes().has(digits) ? digits : undefined;
}
