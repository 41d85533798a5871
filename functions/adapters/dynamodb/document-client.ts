import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig } from '../aws/client-config';

/**
 * The SDK's document client over its DynamoDB client, as every adapter uses
 * it: plain JavaScript values in and out, undefined attributes dropped.
 * `endpoint` is set only locally and in tests, for DynamoDB Local.
 */
export function createDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig('dynamodb', { endpoint })), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
