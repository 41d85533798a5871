import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig, type ClientSettings } from '../aws/client-config';

/**
 * The SDK's document client over its DynamoDB client, as every adapter uses
 * it: plain JavaScript values in and out, undefined attributes dropped.
 * `endpoint` is set only locally and in tests, for DynamoDB Local, and
 * `settings` only by the local server (LOCAL_SERVER_DYNAMODB_SETTINGS).
 */
export function createDocumentClient(endpoint?: string, settings?: ClientSettings): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig('dynamodb', { endpoint, settings })), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
