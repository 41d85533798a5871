import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CLIENT_SETTINGS } from '../functions/adapters/aws/client-config';
import { keys } from '../functions/adapters/dynamodb/keys';

/**
 * The SDK's document client as its documentation builds one, with the
 * functions' attempts and timeouts (the settings that change what a call
 * does), and nothing else: the yardstick the functions' own client
 * (functions/adapters/aws/clients.ts) is measured against.
 * `endpoint`: DynamoDB Local.
 */
export function sdkFloorClient(endpoint: string | undefined): DynamoDBDocumentClient {
  const { maxAttempts, connectionTimeout, requestTimeout } = CLIENT_SETTINGS.dynamodb;
  const client = new DynamoDBClient({
    maxAttempts,
    requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true },
    // DynamoDB Local takes any credentials; its tables live in the region the harness made them in.
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, ...(process.env.AWS_REGION ? {} : { region: 'local' }) } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export interface FloorLink {
  readonly uid: string;
  /** National number, with calling code 86. */
  readonly phone: string;
}

/**
 * The floor of relationPhone's success path: what it cannot avoid. The same
 * BatchGetItem (user and code, strongly consistent) and the same
 * TransactWriteItems (use the code, claim the phone, create the user known
 * on first use with its phone) that TransactionalPhoneLinks issues for a uid never
 * seen, sent straight through a document client.
 */
export async function floorLink(
  db: DynamoDBDocumentClient,
  tables: { readonly codesTableName: string; readonly usersTableName: string },
  link: FloorLink,
  maxWrongTries = 5,
): Promise<void> {
  const e164 = `+86${link.phone}`;
  const userKey = keys.user(link.uid);
  const codeKey = keys.code('link', e164);
  const { Responses } = await db.send(
    new BatchGetCommand({
      RequestItems: {
        [tables.usersTableName]: { Keys: [{ pk: userKey }], ConsistentRead: true },
        [tables.codesTableName]: { Keys: [{ pk: codeKey }], ConsistentRead: true },
      },
    }),
  );
  const codeHash = Responses?.[tables.codesTableName]?.[0]?.codeHash as string | undefined;
  if (!codeHash) throw new Error('floor: code not found');
  if (Responses?.[tables.usersTableName]?.[0]) throw new Error('floor: the user exists already; the floor links a uid never seen');
  const now = Date.now();
  const linkedAt = new Date(now).toISOString();
  await db.send(new TransactWriteCommand({
    ClientRequestToken: randomUUID(),
    TransactItems: [
      {
        Update: {
          TableName: tables.codesTableName,
          Key: { pk: codeKey },
          UpdateExpression: 'SET consumedAt = :now REMOVE codeHash',
          ConditionExpression: 'codeHash = :hash AND expiresAt > :now AND wrongTries < :maxWrongTries',
          ExpressionAttributeValues: { ':hash': codeHash, ':now': now, ':maxWrongTries': maxWrongTries },
        },
      },
      {
        Put: {
          TableName: tables.usersTableName,
          Item: { pk: keys.phoneClaim(e164), uid: link.uid, linkedAt },
          ConditionExpression: 'attribute_not_exists(pk) OR uid = :uid',
          ExpressionAttributeValues: { ':uid': link.uid },
        },
      },
      {
        Update: {
          TableName: tables.usersTableName,
          Key: { pk: userKey },
          UpdateExpression:
            'SET uid = :uid, createdAt = if_not_exists(createdAt, :linkedAt), ' +
            'phone = :phone, callingCode = :callingCode, nationalNumber = :nationalNumber, phoneLinkedAt = :linkedAt',
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeValues: { ':uid': link.uid, ':phone': e164, ':callingCode': '86', ':nationalNumber': link.phone, ':linkedAt': linkedAt },
        },
      },
    ],
  }));
}

/**
 * A function that is nothing but a client and relationPhone's two DynamoDB
 * calls (no token check, no phone parsing, no logging, no middy): bundled as
 * the real ones are, its cold start is the floor that the client alone sets.
 * For the bench only; the query carries `uid` and `phone`.
 */
export const floorHandler =
  (db: DynamoDBDocumentClient, tables: { readonly codesTableName: string; readonly usersTableName: string }) => async (event: APIGatewayProxyEventV2) => {
    const { uid = '', phone = '' } = event.queryStringParameters ?? {};
    await floorLink(db, tables, { uid, phone });
    return { statusCode: 200, body: JSON.stringify({ code: 200, msg: 'floor', extMsg: '', data: {} }) };
  };
