import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorLink, sdkFloorClient } from './floor';

/**
 * A function that is nothing but the AWS SDK and relationPhone's two
 * DynamoDB calls (no token check, no phone parsing, no logging, no middy):
 * bundled as the real ones are, its cold start is the floor that the SDK
 * alone sets, and why the functions do not use it. For the bench only;
 * the query carries `uid` and `phone`.
 */
const db = sdkFloorClient(readDynamoDbEndpoint());
const tables = { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() };

export const handler = async (event: APIGatewayProxyEventV2) => {
  const { uid = '', phone = '' } = event.queryStringParameters ?? {};
  await floorLink(db, tables, { uid, phone });
  return { statusCode: 200, body: JSON.stringify({ code: 200, msg: 'floor', extMsg: '', data: {} }) };
};
