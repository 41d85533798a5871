import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The shape of both tables, used by the CDK stack, the local server and the
 * tests alike, so all three run against the same key schema.
 */
export interface TableDefinition {
  readonly partitionKey: string;
  /** Epoch-seconds attribute DynamoDB's TTL deletes expired items by. */
  readonly timeToLiveAttribute?: string;
}

/** Verification codes, used `random`s and rate-limit counters: all short-lived. */
export const codesTable: TableDefinition = { partitionKey: 'pk', timeToLiveAttribute: 'ttl' };

/** Users and the phone claims that make a phone unique; TTL removes only the tombstones of erased users. */
export const usersTable: TableDefinition = { partitionKey: 'pk', timeToLiveAttribute: 'ttl' };

export const createTableInput = (definition: TableDefinition, tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: definition.partitionKey, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: definition.partitionKey, KeyType: 'HASH' }],
});
