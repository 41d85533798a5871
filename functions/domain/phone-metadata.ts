import type { MetadataJson } from 'libphonenumber-js/core';
import {
  COUNTRIES_JSON,
  COUNTRY_CALLING_CODES,
  METADATA_VERSION,
  NON_GEOGRAPHIC_JSON,
} from './phone-metadata.generated';

/**
 * A record whose values are parsed from JSON on first read, then kept. Its
 * keys are own, enumerable properties from the start, as libphonenumber-js
 * expects (`Object.keys`, `hasOwnProperty`).
 */
function parsedOnFirstRead(jsonByKey: Record<string, string>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, json] of Object.entries(jsonByKey)) {
    Object.defineProperty(record, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value: unknown = JSON.parse(json);
        Object.defineProperty(record, key, { value, enumerable: true });
        return value;
      },
    });
  }
  return record;
}

/**
 * libphonenumber-js's "mobile" metadata (what `libphonenumber-js/mobile`
 * binds), with each country parsed when a number first needs it: a cold
 * start pays for one or two countries, not 245 (docs/PERFORMANCE.md).
 */
export const mobileMetadata = {
  version: METADATA_VERSION,
  country_calling_codes: COUNTRY_CALLING_CODES,
  countries: parsedOnFirstRead(COUNTRIES_JSON),
  nonGeographic: parsedOnFirstRead(NON_GEOGRAPHIC_JSON),
} as unknown as MetadataJson;

