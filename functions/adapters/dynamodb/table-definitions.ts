import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The shape of both tables, used by the CDK stack, the local server and the
 * tests alike, so all three run against the same key schema.
 */
export interface TableDefinition {
  readonly partitionKey: string;
  /** Epoch-seconds attribute DynamoDB's TTL deletes expired items by. */
  readonly timeToLiveAttribute?: string;
  readonly globalIndexes?: readonly IndexDefinition[];
}

/** A global secondary index: a string partition key and a number sort key, all attributes projected. */
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Verification codes, used `random`s and rate-limit counters: all short-lived. */
export const codesTable: TableDefinition = { partitionKey: 'pk', timeToLiveAttribute: 'ttl' };

/** Users and the phone claims that make a phone unique; TTL removes only the tombstones of erased users. */
export const usersTable: TableDefinition = { partitionKey: 'pk', timeToLiveAttribute: 'ttl' };

/**
 * The users table as a multi-Region strongly consistent global table: no
 * TTL there, so what must go later (an operation a crash left pending, an
 * erased user's tombstone) is found through a sparse index of due items,
 * its partitions sharded so that no one index partition takes every link.
 */
export const DUE_INDEX: IndexDefinition = { indexName: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' };
export const multiRegionUsersTable: TableDefinition = { partitionKey: 'pk', globalIndexes: [DUE_INDEX] };

export const createTableInput = (definition: TableDefinition, tableName: string): CreateTableCommandInput => {
  const indexes = definition.globalIndexes ?? [];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: definition.partitionKey, AttributeType: 'S' },
      ...indexes.flatMap((index) => [
        { AttributeName: index.partitionKey, AttributeType: 'S' as const },
        { AttributeName: index.sortKey, AttributeType: 'N' as const },
      ]),
    ],
    KeySchema: [{ AttributeName: definition.partitionKey, KeyType: 'HASH' }],
    ...(indexes.length > 0 && {
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  };
};
