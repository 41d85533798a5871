import { DynamoVerificationCodes } from '../adapters/dynamodb/verification-codes';
import { cachedSecret } from '../adapters/secrets/cached-secret';
import { systemClock } from '../clock';
import { readCodeSettings, readCodesTableName, readPepperSource, readUserProvisioning, readUsersTableName } from '../config';
import { createRelationPhoneHandler } from '../http/handlers';
import { documentClient, phoneLinks, tokenVerifier } from './wiring';

// Cold start: configuration is read (and checked) now; the pepper starts loading now.
const db = documentClient();
const tables = { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() };
const links = phoneLinks(db, tables);
const codes = new DynamoVerificationCodes(db, tables.codesTableName);
const codeSettings = readCodeSettings();
const provisioning = readUserProvisioning();
const pepper = cachedSecret(readPepperSource());

/** Lambda entry point: POST /v2/enduser/enduserapi/relationPhone */
export const handler = createRelationPhoneHandler(tokenVerifier(), async () => ({
  links,
  codes,
  clock: systemClock,
  codeRules: { ...codeSettings, pepper: await pepper() },
  provisioning,
}));
