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

/**
 * Binary values travel as base64 in DynamoDB's JSON: `marshall` gives bytes,
 * which JSON.stringify would turn into an object, and `unmarshall` expects
 * bytes where the wire has text.
 */
function binaryAs(value: AttributeValue, convert: (binary: unknown) => unknown): AttributeValue {
  const attribute = value as unknown as Record<string, unknown>;
  if (attribute.B !== undefined) return { B: convert(attribute.B) } as AttributeValue;
  if (Array.isArray(attribute.BS)) return { BS: attribute.BS.map(convert) } as AttributeValue;
  if (Array.isArray(attribute.L)) return { L: attribute.L.map((item: AttributeValue) => binaryAs(item, convert)) };
  if (attribute.M && typeof attribute.M === 'object') return { M: mapValues(attribute.M as Attributes, (item) => binaryAs(item, convert)) };
  return value;
}
const mapValues = (attributes: Attributes, map: (value: AttributeValue) => AttributeValue): Attributes =>
  Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, map(value)]));
const toBase64 = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('base64');
const fromBase64 = (text: unknown) => new Uint8Array(Buffer.from(String(text), 'base64'));

const toAttributes = (item: object): Attributes =>
  mapValues(marshall(item, { removeUndefinedValues: true }) as Attributes, (value) => binaryAs(value, toBase64));
const toItem = (attributes: Attributes): Item => unmarshall(mapValues(attributes, (value) => binaryAs(value, fromBase64)));

// Reads, and transactions with their request token, are safe to send twice; a
// single PutItem or UpdateItem (an `ADD 1`, a nonce) may not be.
const IDEMPOTENT = { idempotent: true };
const NOT_IDEMPOTENT = { idempotent: false };

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
    const { Item } = await this.aws.call(dynamodb, 'GetItem', marshalled(input), IDEMPOTENT);
    return Item ? { Item: toItem(Item as Attributes) } : {};
  }

  async put(input: PutCommandInput): Promise<void> {
    await this.aws.call(dynamodb, 'PutItem', marshalled(input), NOT_IDEMPOTENT);
  }

  async update(input: UpdateCommandInput): Promise<void> {
    await this.aws.call(dynamodb, 'UpdateItem', marshalled(input), NOT_IDEMPOTENT);
  }

  async batchGet(input: BatchGetCommandInput): Promise<{ Responses: Record<string, Item[]>; UnprocessedKeys: Record<string, { Keys: Item[] }> }> {
    const RequestItems = Object.fromEntries(
      Object.entries(input.RequestItems ?? {}).map(([table, { Keys, ...rest }]) => [table, { ...rest, Keys: (Keys ?? []).map(toAttributes) }]),
    );
    const output = await this.aws.call(dynamodb, 'BatchGetItem', { ...input, RequestItems }, IDEMPOTENT);
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
    await this.aws.call(dynamodb, 'TransactWriteItems', { ClientRequestToken: randomUUID(), ...input, TransactItems }, IDEMPOTENT);
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
