import { InvalidParameter } from './errors';
import type { NormalizedPhone } from './phone';
import { smsCountries } from './countries';
import { NON_GEOGRAPHIC_JSON } from './phone-metadata.generated';

/**
 * A destination prefix, the unit the pumping guard judges (docs/API.md,
 * "Abuse defences beyond the caps"): the number's country (its number
 * range's, as for the per-country breaker) and the first digits of its
 * national significant number. `+44 7911 123456` is in `GG-791`.
 */
export interface SmsPrefix {
  /** `GB-792` */
  readonly name: string;
  /** `GB`; `+882` for a number of no country. */
  readonly country: string;
}

/** The prefix a number is in, `digits` digits long (numbers shorter than that are their whole number). */
export function prefixOf(phone: Pick<NormalizedPhone, 'country' | 'nationalNumber'>, digits: number): SmsPrefix {
  return { name: `${phone.country}-${phone.nationalNumber.slice(0, digits)}`, country: phone.country };
}

/** Calling codes of no country (+800, +882...): their numbers' prefixes are named after the code. */
const NON_GEOGRAPHIC_CODES: ReadonlySet<string> = new Set(Object.keys(NON_GEOGRAPHIC_JSON));

/**
 * A prefix as the admin routes name it: an ISO country whose numbers this
 * service knows (or `+<code>` of a calling code of no country), `-`, and
 * exactly `digits` digits; anything else is 400 "Invalid parameter: prefix".
 */
export function parsePrefix(raw: string | undefined, digits: number): SmsPrefix {
  const match = raw === undefined ? null : /^(?<country>[A-Z]{2}|\+\d{1,3})-(?<digits>\d+)$/.exec(raw);
  const country = match?.groups?.country;
  const known = country !== undefined && (country.startsWith('+') ? NON_GEOGRAPHIC_CODES.has(country.slice(1)) : smsCountries().has(country));
  if (!match || !known || match.groups?.digits?.length !== digits) throw new InvalidParameter('prefix');
  return { name: raw as string, country: country as string };
}
