import { createUserInfoHandler } from '../http/handlers';
import { dynamoAdapters, tokenVerifier } from './wiring';

/** Lambda entry point: GET /v2/enduser/enduserapi/userInfo */
export const handler = createUserInfoHandler({ users: dynamoAdapters().users, tokens: tokenVerifier() });
