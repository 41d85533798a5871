/**
 * `npm run generate:phone-metadata`: writes functions/domain/phone-metadata.generated.ts
 * from the installed libphonenumber-js's mobile metadata, each country as a
 * JSON string that functions/domain/phone-metadata.ts parses on first use.
 *
 * Why: bundled as the package ships it, the metadata is one large object
 * literal that V8 compiles and builds on every cold start, while a request
 * needs one or two countries (docs/PERFORMANCE.md).
 * test/unit/phone-metadata.test.ts fails when the file no longer matches the
 * installed package: run this after upgrading libphonenumber-js.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { installedPhoneMetadata, renderPhoneMetadataModule } from './phone-metadata-module';

const { packageVersion, metadata } = installedPhoneMetadata();
const target = path.join(__dirname, '..', 'functions', 'domain', 'phone-metadata.generated.ts');
writeFileSync(target, renderPhoneMetadataModule(metadata, packageVersion));
console.log(`Wrote ${path.relative(process.cwd(), target)} from libphonenumber-js ${packageVersion}`);
