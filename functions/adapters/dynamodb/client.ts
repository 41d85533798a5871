import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One document client per container, built at cold start and reused.
 * `endpoint` is set only locally and in tests, for DynamoDB Local.
 */
export function createDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    // Transient faults (throttling, 5xx, timeouts, resets) are retried by the
    // SDK: 3 attempts in all, each cut off after 1.5 s (DynamoDB answers in
    // milliseconds; a hung socket should not eat the budget). Worst case for
    // one call is about 3 x 1.5 s plus back-off, well inside the function's
    // 10 s timeout even for a path of two calls.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
    ...(endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'local',
          // DynamoDB Local accepts any credentials; never look for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
