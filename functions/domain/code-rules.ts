import type { CountryAllowList } from './phone';

/**
 * How codes are issued and checked, and which numbers they go to. Their
 * defaults, variables and context keys are in functions/tunables.ts.
 */
export interface CodeSettings {
  readonly codeTtlSeconds: number;
  readonly maxWrongTries: number;
  /** Calling code that applies where `internationalCode` is optional and absent. */
  readonly domesticCallingCode: string;
  /** ISO 3166 alpha-2 countries SMS may go to; undefined = all. */
  readonly allowedCountries: CountryAllowList;
}

/** The code settings, with the key they are stored under: what the use cases check codes by. */
export interface CodeRules extends CodeSettings {
  /** Key of the HMAC that codes are stored under. */
  readonly pepper: string;
}
