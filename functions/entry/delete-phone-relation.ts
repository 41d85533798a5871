import { DynamoUsers } from '../adapters/dynamodb/users';
import { DynamoVerificationCodes } from '../adapters/dynamodb/verification-codes';
import { cachedSecret } from '../adapters/secrets/cached-secret';
import { systemClock } from '../clock';
import { readCodeSettings, readCodesTableName, readPepperSource, readUserProvisioning, readUsersTableName } from '../config';
import { createDeletePhoneRelationHandler } from '../http/handlers';
import { documentClient, phoneLinks, tokenVerifier } from './wiring';

// Cold start: configuration is read (and checked) now; the pepper starts loading now.
const db = documentClient();
const tables = { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() };
const users = new DynamoUsers(db, tables.usersTableName);
const links = phoneLinks(db, tables);
const codes = new DynamoVerificationCodes(db, tables.codesTableName);
const codeSettings = readCodeSettings();
const provisioning = readUserProvisioning();
const pepper = cachedSecret(readPepperSource());

/** Lambda entry point: DELETE /v2/enduser/enduserapi/deletePhoneRelation */
export const handler = createDeletePhoneRelationHandler(tokenVerifier(), async () => ({
  users,
  links,
  codes,
  clock: systemClock,
  codeRules: { ...codeSettings, pepper: await pepper() },
  provisioning,
}));
