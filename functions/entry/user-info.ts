import { DynamoUsers } from '../adapters/dynamodb/users';
import { readUserProvisioning, readUsersTableName } from '../config';
import { createUserInfoHandler, ready } from '../http/handlers';
import { documentClient, tokenVerifier } from './wiring';

/** Lambda entry point: GET /v2/enduser/enduserapi/userInfo */
export const handler = createUserInfoHandler(
  tokenVerifier(),
  ready({ users: new DynamoUsers(documentClient(), readUsersTableName()), provisioning: readUserProvisioning() }),
);
