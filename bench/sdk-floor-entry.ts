import { createDocumentClient } from '../functions/adapters/dynamodb/document-client';
import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorHandler } from './floor';

/** The floor function (bench/floor.ts): the SDK's document client, set up as the functions' is, and relationPhone's two calls, nothing else. */
export const handler = floorHandler(createDocumentClient(readDynamoDbEndpoint()), { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() });
