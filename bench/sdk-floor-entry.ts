import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorHandler } from './floor';
import { sdkFloorClient } from './sdk-floor-client';

/** The floor function (bench/floor.ts) on the AWS SDK's document client: what the SDK alone costs a cold start. */
export const handler = floorHandler(sdkFloorClient(readDynamoDbEndpoint()), { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() });
