import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { readCodesTableName, readDynamoDbEndpoint, readUsersTableName } from '../functions/config';
import { floorLink } from './floor';

/**
 * A function that is nothing but the AWS SDK and relationPhone's two
 * DynamoDB calls (no token check, no phone parsing, no logging, no middy):
 * bundled as the real ones are, its cold start is the floor that the SDK
 * alone sets. For the bench only; the query carries `uid` and `phone`.
 */
const db = createDocumentClient(readDynamoDbEndpoint());
const tables = { codesTableName: readCodesTableName(), usersTableName: readUsersTableName() };

export const handler = async (event: APIGatewayProxyEventV2) => {
  const { uid = '', phone = '' } = event.queryStringParameters ?? {};
  await floorLink(db, tables, { uid, phone });
  return { statusCode: 200, body: JSON.stringify({ code: 200, msg: 'floor', extMsg: '', data: {} }) };
};
