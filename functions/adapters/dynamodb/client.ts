import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type {
  BatchGetCommandInput,
  GetCommandInput,
  PutCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { AwsHttpClient, awsJsonProtocol } from '../aws/aws-http-client';

export type Item = Record<string, unknown>;
type Attributes = Record<string, AttributeValue>;

const dynamodb = awsJsonProtocol<Record<string, unknown>, Record<string, unknown>>({
  signingName: 'dynamodb',
  endpointId: 'DYNAMODB',
  version: '1.0',
  targetPrefix: 'DynamoDB_20120810',
});

const toAttributes = (item: object): Attributes => marshall(item, { removeUndefinedValues: true }) as Attributes;
const toItem = (attributes: Attributes): Item => unmarshall(attributes);

/** Marshals the fields of a request that hold plain values: the item, its key and the expression values. */
function marshalled<T extends { Item?: object; Key?: object; ExpressionAttributeValues?: object }>(request: T): Record<string, unknown> {
  const { Item, Key, ExpressionAttributeValues, ...rest } = request;
  return {
    ...rest,
    ...(Item ? { Item: toAttributes(Item) } : {}),
    ...(Key ? { Key: toAttributes(Key) } : {}),
    ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) } : {}),
  };
}

/**
 * The DynamoDB calls the adapters make, with plain JavaScript values in and
 * out (marshalled by `@aws-sdk/util-dynamodb`, as the SDK's document client
 * does), over the small AWS client. Failures throw `AwsServiceError` named by
 * DynamoDB's error code.
 */
export class DocumentClient {
  constructor(readonly aws: AwsHttpClient) {}

  async get(input: GetCommandInput): Promise<{ Item?: Item }> {
    const { Item } = await this.aws.call(dynamodb, 'GetItem', marshalled(input));
    return Item ? { Item: toItem(Item as Attributes) } : {};
  }

  async put(input: PutCommandInput): Promise<void> {
    await this.aws.call(dynamodb, 'PutItem', marshalled(input));
  }

  async update(input: UpdateCommandInput): Promise<void> {
    await this.aws.call(dynamodb, 'UpdateItem', marshalled(input));
  }

  async batchGet(input: BatchGetCommandInput): Promise<{ Responses: Record<string, Item[]>; UnprocessedKeys: Record<string, { Keys: Item[] }> }> {
    const RequestItems = Object.fromEntries(
      Object.entries(input.RequestItems ?? {}).map(([table, { Keys, ...rest }]) => [table, { ...rest, Keys: (Keys ?? []).map(toAttributes) }]),
    );
    const output = await this.aws.call(dynamodb, 'BatchGetItem', { ...input, RequestItems });
    const responses = (output.Responses ?? {}) as Record<string, Attributes[]>;
    const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: Attributes[] }>;
    return {
      Responses: Object.fromEntries(Object.entries(responses).map(([table, items]) => [table, items.map(toItem)])),
      UnprocessedKeys: Object.fromEntries(
        Object.entries(unprocessed).map(([table, { Keys, ...rest }]) => [table, { ...rest, Keys: (Keys ?? []).map(toItem) }]),
      ),
    };
  }

  /**
   * All or nothing. The request token is made once per call, so a retry
   * after a lost answer is idempotent (DynamoDB remembers it 10 minutes);
   * a cancellation throws `TransactionCanceledException` with its reasons.
   */
  async transactWrite(input: TransactWriteCommandInput): Promise<void> {
    const TransactItems = (input.TransactItems ?? []).map((item) =>
      Object.fromEntries(Object.entries(item).map(([kind, request]) => [kind, request && marshalled(request as object)])),
    );
    await this.aws.call(dynamodb, 'TransactWriteItems', { ClientRequestToken: randomUUID(), ...input, TransactItems });
  }

  destroy(): void {
    this.aws.destroy();
  }
}

/**
 * One client per container, built at cold start and reused. `endpoint` is
 * set only locally and in tests, for DynamoDB Local.
 */
export function createDocumentClient(endpoint?: string): DocumentClient {
  // Transient faults (throttling, 5xx, timeouts, resets) are retried: 3
  // attempts in all, each cut off after 1.5 s (DynamoDB answers in
  // milliseconds; a hung socket should not eat the budget). Worst case for
  // one call is about 3 x 1.5 s plus back-off, inside the function's 10 s
  // timeout even for a path of two calls.
  const retries = { maxAttempts: 3, connectTimeoutMs: 1_000, requestTimeoutMs: 1_500 };
  return new DocumentClient(
    new AwsHttpClient(
      endpoint
        ? {
            ...retries,
            endpoint,
            region: process.env.AWS_REGION ?? 'local',
            // DynamoDB Local accepts any credentials; never look for real ones.
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : retries,
    ),
  );
}
