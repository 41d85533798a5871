import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getCountries } from 'libphonenumber-js';
import { SMS_COUNTRIES } from '../../lib/sms-countries.generated';
import { installedSmsCountries, NOT_ISO_3166_1_COUNTRIES, renderSmsCountriesModule } from '../../local/sms-countries-module';

describe('the countries of the SMS protect configuration', () => {
  it('are what `npm run generate:sms-countries` writes from the installed libphonenumber-js', () => {
    const installed = installedSmsCountries();
    const generated = readFileSync(path.join(__dirname, '../../lib/sms-countries.generated.ts'), 'utf8');
    // If this fails after an upgrade of libphonenumber-js: npm run generate:sms-countries
    expect(generated === renderSmsCountriesModule(installed.countries, installed.packageVersion)).toBe(true);
  });

  it('are ISO 3166-1 alpha-2 codes, each once, sorted', () => {
    expect(SMS_COUNTRIES.every((country) => /^[A-Z]{2}$/.test(country))).toBe(true);
    expect(new Set(SMS_COUNTRIES).size).toBe(SMS_COUNTRIES.length);
    expect([...SMS_COUNTRIES].sort()).toEqual(SMS_COUNTRIES);
  });

  it('are every country the functions can name a number by, less the two ISO only reserves (Saint Helena covers them)', () => {
    const named = getCountries().filter((country) => !SMS_COUNTRIES.includes(country));
    expect(named.sort()).toEqual(['AC', 'TA']);
    expect(NOT_ISO_3166_1_COUNTRIES).toEqual(['AC', 'TA']);
    expect(SMS_COUNTRIES).toEqual(expect.arrayContaining(['SH', 'CN', 'HK', 'US', 'GB', 'XK']));
  });
});
