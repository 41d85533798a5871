/**
 * `npm run generate:sms-countries`: writes lib/sms-countries.generated.ts,
 * the countries of the SMS protect configuration's rule set, from the
 * installed libphonenumber-js (local/sms-countries-module.ts says why).
 * test/unit/sms-countries.test.ts fails when the file no longer matches the
 * installed package: run this after upgrading libphonenumber-js.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { installedSmsCountries, renderSmsCountriesModule } from './sms-countries-module';

const { packageVersion, countries } = installedSmsCountries();
const target = path.join(__dirname, '..', 'lib', 'sms-countries.generated.ts');
writeFileSync(target, renderSmsCountriesModule(countries, packageVersion));
console.log(`Wrote ${path.relative(process.cwd(), target)}: ${countries.length} countries, from libphonenumber-js ${packageVersion}`);
