import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { AwsHttpClient, awsJsonProtocol, AwsServiceError, defaultEndpoint, isAwsError } from '../../functions/adapters/aws/aws-http-client';
import { DocumentClient } from '../../functions/adapters/dynamodb/client';
import { resolveSecret } from '../../functions/adapters/secrets/secret-source';
import { SnsSmsSender } from '../../functions/adapters/sms/sns-sms-sender';

/**
 * The small AWS client against a local HTTP server that plays AWS: what goes
 * on the wire (signature, target, body), what comes back (answers, errors),
 * and what is retried. Real sockets; no mocks.
 */

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'reset';

class FakeAws {
  readonly received: Received[] = [];
  private readonly replies: Reply[] = [];
  private readonly server: Server;
  endpoint = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const reply = this.replies.shift() ?? { status: 200, body: '{}' };
        if (reply === 'hang') return; // never answers
        if (reply === 'reset') return req.socket.destroy();
        res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0', ...reply.headers });
        res.end(reply.body);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  answer(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
const echo = awsJsonProtocol<Record<string, unknown>, Record<string, unknown>>({ signingName: 'dynamodb', endpointId: 'DYNAMODB', version: '1.0', targetPrefix: 'DynamoDB_20120810' });
const SAFE = { idempotent: true };
const UNSAFE = { idempotent: false };
const dynamoError = (status: number, code: string, extra: Record<string, unknown> = {}) => ({
  status,
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: `${code} happened`, ...extra }),
});

describe('AwsHttpClient', () => {
  let aws: FakeAws;
  let client: AwsHttpClient;

  beforeEach(async () => {
    aws = await new FakeAws().start();
    client = new AwsHttpClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials, requestTimeoutMs: 300, connectTimeoutMs: 300 });
  });
  afterEach(async () => {
    client.destroy();
    await aws.stop();
  });

  it('signs exactly as the AWS SDK signs the same request', async () => {
    aws.answer({ status: 200, body: '{"ok":true}' });
    expect(await client.call(echo, 'GetItem', { TableName: 'users', Key: { pk: { S: 'USER#1' } } }, SAFE)).toEqual({ ok: true });

    const [request] = aws.received;
    const headers = request!.headers;
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(JSON.parse(request!.body)).toEqual({ TableName: 'users', Key: { pk: { S: 'USER#1' } } });

    type SourceData = string | ArrayBuffer | ArrayBufferView;
    const toBytes = (data: SourceData) =>
      typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    // The SDK's own signer, over the same request at the same instant, must give the same signature.
    class Sha256 {
      private readonly hash;
      constructor(secret?: SourceData) {
        this.hash = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256');
      }
      update(data: SourceData) {
        this.hash.update(toBytes(data));
      }
      async digest() {
        return new Uint8Array(this.hash.digest());
      }
    }
    // Same signed headers: aws4 signs content-length; the SDK would add x-amz-content-sha256 (applyChecksum).
    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'dynamodb', sha256: Sha256, applyChecksum: false });
    const amzDate = String(headers['x-amz-date']);
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const url = new URL(aws.endpoint);
    const expected = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: {},
        headers: {
          host: url.host,
          'content-type': String(headers['content-type']),
          'x-amz-target': String(headers['x-amz-target']),
          'content-length': String(headers['content-length']),
        },
        body: request!.body,
      },
      { signingDate },
    );
    const signatureOf = (authorization: unknown) => /Signature=([0-9a-f]{64})/.exec(String(authorization))?.[1];
    expect(signatureOf(headers.authorization)).toBeDefined();
    expect(String(headers.authorization)).toContain('SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target,');
    expect(signatureOf(headers.authorization)).toBe(signatureOf(expected.headers.authorization));
  });

  it('throws the service error by its code, with the payload, and does not retry a client error', async () => {
    aws.answer(dynamoError(400, 'TransactionCanceledException', { CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] }));
    const failure = await client.call(echo, 'TransactWriteItems', {}, SAFE).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AwsServiceError);
    expect(isAwsError(failure, 'TransactionCanceledException')).toBe(true);
    expect((failure as AwsServiceError).message).toBe('TransactionCanceledException happened');
    expect((failure as AwsServiceError).details.CancellationReasons).toEqual([{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }]);
    expect(aws.received).toHaveLength(1);
  });

  it.each([
    ['throttling', dynamoError(400, 'ProvisionedThroughputExceededException')],
    ['a server error', dynamoError(500, 'InternalServerError')],
    ['a 503 without a body', { status: 503, body: '' }],
  ])('retries %s, then succeeds', async (_kind, fault) => {
    aws.answer(fault, { status: 200, body: '{"done":1}' });
    // An answer says the request was refused, not applied: retried even for a write that is not safe twice.
    expect(await client.call(echo, 'PutItem', {}, UNSAFE)).toEqual({ done: 1 });
    expect(aws.received).toHaveLength(2);
  });

  it('gives up after 3 attempts and throws the last error', async () => {
    aws.answer(dynamoError(500, 'InternalServerError'), dynamoError(500, 'InternalServerError'), dynamoError(500, 'InternalServerError'));
    await expect(client.call(echo, 'PutItem', {}, UNSAFE)).rejects.toMatchObject({ name: 'InternalServerError', httpStatusCode: 500 });
    expect(aws.received).toHaveLength(3);
  });

  it('cuts a hung attempt at the request timeout and retries it', async () => {
    aws.answer('hang', { status: 200, body: '{"after":"hang"}' });
    expect(await client.call(echo, 'GetItem', {}, SAFE)).toEqual({ after: 'hang' });
    expect(aws.received).toHaveLength(2);
  });

  it('retries a dropped connection', async () => {
    aws.answer('reset', { status: 200, body: '{"after":"reset"}' });
    expect(await client.call(echo, 'GetItem', {}, SAFE)).toEqual({ after: 'reset' });
  });

  it('does not send a write that is not safe twice again after a timeout: it may have landed', async () => {
    aws.answer('hang', { status: 200, body: '{}' });
    await expect(client.call(echo, 'UpdateItem', {}, UNSAFE)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(aws.received).toHaveLength(1);
  });

  it('does not send such a write again after a reset on a fresh connection', async () => {
    aws.answer('reset', { status: 200, body: '{}' });
    await expect(client.call(echo, 'UpdateItem', {}, UNSAFE)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(aws.received).toHaveLength(1);
  });

  it('sends it again after a reset on a kept-alive socket, which the server had closed (Node\'s advice)', async () => {
    aws.answer({ status: 200, body: '{}' }, 'reset', { status: 200, body: '{"second":true}' });
    await client.call(echo, 'GetItem', {}, SAFE); // leaves a socket in the pool
    expect(await client.call(echo, 'UpdateItem', {}, UNSAFE)).toEqual({ second: true });
    expect(aws.received).toHaveLength(3);
  });

  it('names an error from the x-amzn-ErrorType header when the body has no __type, with the request id', async () => {
    aws.answer({ status: 400, body: '{"message":"Bad key"}', headers: { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/', 'x-amzn-requestid': 'REQ123' } });
    await expect(client.call(echo, 'GetItem', {}, SAFE)).rejects.toMatchObject({ name: 'ValidationException', message: 'Bad key', requestId: 'REQ123' });
  });

  it('builds the regional endpoint of each partition', () => {
    expect(defaultEndpoint('dynamodb', 'eu-west-1')).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    expect(defaultEndpoint('sns', 'cn-northwest-1')).toBe('https://sns.cn-northwest-1.amazonaws.com.cn/');
    expect(defaultEndpoint('secretsmanager', 'us-gov-west-1')).toBe('https://secretsmanager.us-gov-west-1.amazonaws.com/');
  });

  it('fails fast without credentials or region, before any request', async () => {
    const bare = new AwsHttpClient({ endpoint: aws.endpoint, env: {} });
    await expect(bare.call(echo, 'GetItem', {}, SAFE)).rejects.toThrow('No AWS region');
    const noCredentials = new AwsHttpClient({ endpoint: aws.endpoint, env: { AWS_REGION: 'eu-west-1' } });
    await expect(noCredentials.call(echo, 'GetItem', {}, SAFE)).rejects.toThrow('No AWS credentials');
    expect(aws.received).toHaveLength(0);
  });

  it("reads Lambda's role credentials and a service's endpoint from the environment", async () => {
    const fromEnv = new AwsHttpClient({
      env: { AWS_REGION: 'cn-north-1', AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_DYNAMODB: aws.endpoint },
    });
    await fromEnv.call(echo, 'GetItem', {}, SAFE);
    fromEnv.destroy();
    expect(aws.received[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDENV\/\d{8}\/cn-north-1\/dynamodb\/aws4_request,/);
    expect(aws.received[0]!.headers['x-amz-security-token']).toBeUndefined();
  });
});

describe('DocumentClient', () => {
  let aws: FakeAws;
  let db: DocumentClient;

  beforeEach(async () => {
    aws = await new FakeAws().start();
    db = new DocumentClient(new AwsHttpClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials, requestTimeoutMs: 300 }));
  });
  afterEach(async () => {
    db.destroy();
    await aws.stop();
  });

  it('marshals plain values in and out, as the SDK document client does', async () => {
    aws.answer({ status: 200, body: JSON.stringify({ Item: { pk: { S: 'USER#1' }, tries: { N: '2' }, tags: { L: [{ S: 'a' }] } } }) });
    expect(await db.get({ TableName: 't', Key: { pk: 'USER#1' }, ConsistentRead: true })).toEqual({ Item: { pk: 'USER#1', tries: 2, tags: ['a'] } });
    expect(JSON.parse(aws.received[0]!.body)).toEqual({ TableName: 't', Key: { pk: { S: 'USER#1' } }, ConsistentRead: true });

    aws.answer({ status: 200, body: '{}' });
    expect(await db.get({ TableName: 't', Key: { pk: 'none' } })).toEqual({});
  });

  it('keeps one request token across the retries of a transaction, so a retry after a lost answer is idempotent', async () => {
    aws.answer(dynamoError(500, 'InternalServerError'), { status: 200, body: '{}' });
    await db.transactWrite({
      TransactItems: [
        { Put: { TableName: 't', Item: { pk: 'a', gone: undefined, n: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: 't', Key: { pk: 'b' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      ],
    });
    const [first, second] = aws.received.map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(first!.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(second!.ClientRequestToken).toBe(first!.ClientRequestToken);
    expect(first!.TransactItems).toEqual([
      { Put: { TableName: 't', Item: { pk: { S: 'a' }, n: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: 't', Key: { pk: { S: 'b' } }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
    ]);
  });

  it('puts on the wire exactly what the SDK document client puts there', async () => {
    const input: TransactWriteCommandInput = {
      TransactItems: [
        {
          Put: {
            TableName: 't',
            Item: { pk: 'a', n: 1.5, s: '', nothing: null, gone: undefined, flag: true, bytes: new Uint8Array([1, 2, 255]), tags: new Set(['x', 'y']), nested: { list: [1, 'two', { deep: undefined, kept: [] }] } },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { Update: { TableName: 't', Key: { pk: 'b' }, UpdateExpression: 'SET #v = :v', ExpressionAttributeNames: { '#v': 'v' }, ExpressionAttributeValues: { ':v': { m: 1 }, ':u': undefined } } },
        { Delete: { TableName: 't', Key: { pk: 'c' }, ConditionExpression: 'uid = :uid', ExpressionAttributeValues: { ':uid': 'u1' } } },
        { ConditionCheck: { TableName: 't', Key: { pk: 'd' }, ConditionExpression: 'attribute_exists(pk)' } },
      ],
    };
    await db.transactWrite(input);
    const sdk = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 }), {
      marshallOptions: { removeUndefinedValues: true },
    });
    await sdk.send(new TransactWriteCommand(input));
    sdk.destroy();
    const [ours, theirs] = aws.received.map((request) => {
      const { ClientRequestToken: _token, ...body } = JSON.parse(request.body) as Record<string, unknown>;
      return body;
    });
    expect(ours).toEqual(theirs);
    expect(JSON.stringify(ours)).toContain('"bytes":{"B":"AQL/"}');
  });

  it('reads binary attributes back as bytes', async () => {
    aws.answer({ status: 200, body: JSON.stringify({ Item: { pk: { S: 'a' }, bytes: { B: 'AQL/' }, many: { BS: ['AQ=='] }, deep: { M: { b: { B: 'Ag==' } } } } }) });
    const { Item } = await db.get({ TableName: 't', Key: { pk: 'a' } });
    expect(Item).toEqual({ pk: 'a', bytes: new Uint8Array([1, 2, 255]), many: new Set([new Uint8Array([1])]), deep: { b: new Uint8Array([2]) } });
  });

  it('unmarshals batch responses and unprocessed keys', async () => {
    aws.answer({
      status: 200,
      body: JSON.stringify({ Responses: { t: [{ pk: { S: 'a' } }] }, UnprocessedKeys: { t: { Keys: [{ pk: { S: 'b' } }], ConsistentRead: true } } }),
    });
    expect(await db.batchGet({ RequestItems: { t: { Keys: [{ pk: 'a' }, { pk: 'b' }], ConsistentRead: true } } })).toEqual({
      Responses: { t: [{ pk: 'a' }] },
      UnprocessedKeys: { t: { Keys: [{ pk: 'b' }], ConsistentRead: true } },
    });
    expect(JSON.parse(aws.received[0]!.body)).toEqual({ RequestItems: { t: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'b' } }], ConsistentRead: true } } });
  });
});

describe('SNS and Secrets Manager adapters', () => {
  let aws: FakeAws;

  beforeEach(async () => {
    aws = await new FakeAws().start();
  });
  afterEach(() => aws.stop());

  it('publishes a transactional SMS with the sender id as SNS expects the form', async () => {
    const client = new AwsHttpClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials });
    aws.answer({ status: 200, body: '<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>', headers: { 'content-type': 'text/xml' } });
    await new SnsSmsSender({ senderId: 'PhoneLink' }, client).send('+8613800138000', 'Your code is 123456');
    client.destroy();
    const { headers, body } = aws.received[0]!;
    expect(headers.authorization).toContain('/eu-west-1/sns/aws4_request');
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual({
      Action: 'Publish',
      Version: '2010-03-31',
      PhoneNumber: '+8613800138000',
      Message: 'Your code is 123456',
      'MessageAttributes.entry.1.Name': 'AWS.SNS.SMS.SMSType',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'Transactional',
      'MessageAttributes.entry.2.Name': 'AWS.SNS.SMS.SenderID',
      'MessageAttributes.entry.2.Value.DataType': 'String',
      'MessageAttributes.entry.2.Value.StringValue': 'PhoneLink',
    });
  });

  it("turns SNS's XML error into an error named by its code", async () => {
    const client = new AwsHttpClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials });
    aws.answer({
      status: 400,
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber</Message></Error></ErrorResponse>',
      headers: { 'content-type': 'text/xml' },
    });
    await expect(new SnsSmsSender({ senderId: undefined }, client).send('+1', 'x')).rejects.toMatchObject({ name: 'InvalidParameter', message: 'Invalid parameter: PhoneNumber' });
    client.destroy();
  });

  it('reads a secret from Secrets Manager when given an ARN, with its JSON 1.1 target', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint });
    try {
      aws.answer({ status: 200, body: JSON.stringify({ SecretString: 'the-pepper' }) });
      expect(await resolveSecret({ secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:pepper' })).toBe('the-pepper');
      expect(aws.received[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
      expect(aws.received[0]!.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(JSON.parse(aws.received[0]!.body)).toEqual({ SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:pepper' });
      expect(await resolveSecret({ value: 'inline' })).toBe('inline');
    } finally {
      process.env = saved;
    }
  });
});
