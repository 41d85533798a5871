import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/mobile';
import { countryCallingCodes } from '../../functions/domain/countries';
import { mobileMetadata } from '../../functions/domain/phone-metadata';
import { installedPhoneMetadata, renderPhoneMetadataModule } from '../../local/phone-metadata-module';

const installed = installedPhoneMetadata();

describe('phone metadata', () => {
  it('is what `npm run generate:phone-metadata` writes from the installed libphonenumber-js', () => {
    const generated = readFileSync(path.join(__dirname, '../../functions/domain/phone-metadata.generated.ts'), 'utf8');
    // If this fails after an upgrade of libphonenumber-js: npm run generate:phone-metadata
    expect(generated === renderPhoneMetadataModule(installed.metadata, installed.packageVersion)).toBe(true);
  });

  it('reads as the package’s mobile metadata, every country included', () => {
    expect(JSON.parse(JSON.stringify(mobileMetadata))).toEqual(installed.metadata);
  });

  it('parses a country once, on first read', () => {
    const countries = (mobileMetadata as unknown as { countries: Record<string, unknown> }).countries;
    const first = countries.CN;
    expect(first).toEqual(installed.metadata.countries.CN);
    expect(countries.CN).toBe(first);
    expect(Object.getOwnPropertyDescriptor(countries, 'CN')).toMatchObject({ value: first, enumerable: true });
  });

  it('knows the calling codes of every country, and no non-geographic one', () => {
    const ofCountries = new Set(getCountries().map((country) => getCountryCallingCode(country) as string));
    expect([...countryCallingCodes()].sort()).toEqual([...ofCountries].sort());
    expect(countryCallingCodes().has('800')).toBe(false);
  });
});
