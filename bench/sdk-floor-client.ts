import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { FloorClient } from './floor';

/**
 * The AWS SDK's document client, set up as the functions' own client is
 * (3 attempts, 1 s to connect, 1.5 s per attempt): the floor the issue
 * defines, "the same DynamoDB calls, issued directly with the SDK".
 */
export function sdkFloorClient(endpoint?: string): FloorClient & { destroy(): void } {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
      ...(endpoint ? { endpoint, region: process.env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    batchGet: (input) => client.send(new BatchGetCommand(input)),
    transactWrite: (input) => client.send(new TransactWriteCommand(input)),
    destroy: () => client.destroy(),
  };
}

