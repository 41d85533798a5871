import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorHandler } from './floor';

/** The floor function (bench/floor.ts) on the functions' own client: what a cold start costs before any of the handler's code. */
export const handler = floorHandler(createDocumentClient(readDynamoDbEndpoint()), { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() });
