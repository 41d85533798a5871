import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorHandler, sdkFloorClient } from './floor';

/** The floor function (bench/floor.ts): the SDK's document client and relationPhone's two calls, nothing else. */
export const handler = floorHandler(sdkFloorClient(readDynamoDbEndpoint()), { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() });
