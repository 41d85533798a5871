import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { CLIENT_SETTINGS, clientConfig } from '../../functions/adapters/aws/client-config';
import { cachedSecret } from '../../functions/adapters/secrets/cached-secret';
import { SnsSmsSender } from '../../functions/adapters/sms/sns-sms-sender';

/**
 * The SNS and Secrets Manager adapters through the real SDK clients, set up
 * by client-config.ts, against a stub server on loopback that answers (or
 * fails) as the service would.
 */
type Reply = (request: { body: string; target: string | undefined }, res: ServerResponse) => void;

async function stubService(reply: Reply) {
  const received: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push(body);
      reply({ body, target: req.headers['x-amz-target'] as string | undefined }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const published = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end('<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>');
};

describe('SnsSmsSender', () => {
  const sender = (endpoint: string, senderId?: string) =>
    new SnsSmsSender({ senderId }, new SNSClient({ ...clientConfig('sns', { endpoint }), region: 'eu-west-1' }));

  it('publishes a transactional SMS straight to the number, with the sender id when set', async () => {
    const sns = await stubService((_request, res) => published(res));
    await sender(sns.endpoint, 'PHONELINK').send('+8613800138000', 'Your code is 123456');
    await sns.close();
    expect(sns.received).toHaveLength(1);
    const form = Object.fromEntries(new URLSearchParams(sns.received[0]));
    expect(form).toMatchObject({ Action: 'Publish', PhoneNumber: '+8613800138000', Message: 'Your code is 123456' });
    const attributes = Object.entries(form).filter(([name]) => name.startsWith('MessageAttributes')).map(([, value]) => value);
    expect(attributes).toEqual(expect.arrayContaining(['AWS.SNS.SMS.SMSType', 'Transactional', 'AWS.SNS.SMS.SenderID', 'PHONELINK']));
  });

  it.each([
    ['the connection drops after the request went out', (_request: unknown, res: ServerResponse) => res.socket?.destroy()],
    ['SNS answers 500', (_request: unknown, res: ServerResponse) => (res.writeHead(500, { 'content-type': 'text/xml' }), res.end('<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>'))],
    ['SNS throttles', (_request: unknown, res: ServerResponse) => (res.writeHead(400, { 'content-type': 'text/xml' }), res.end('<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>'))],
  ])('never sends a second SMS: when %s, the send fails after one Publish', async (_case, reply) => {
    const sns = await stubService(reply);
    await expect(sender(sns.endpoint).send('+8613800138000', 'Your code is 123456')).rejects.toThrow();
    await sns.close();
    expect(sns.received).toHaveLength(1);
  });
});

describe('a call whose answer never comes', () => {
  const neverAnswers = () => stubService(() => undefined);

  it('SNS: the Publish fails with a TimeoutError after its one attempt, and no second SMS goes out', async () => {
    const sns = await neverAnswers();
    const client = new SNSClient({ ...clientConfig('sns', { endpoint: sns.endpoint }), region: 'eu-west-1' });
    const failure = await new SnsSmsSender({ senderId: undefined }, client).send('+8613800138000', 'Your code is 123456').catch((error: unknown) => error);
    client.destroy();
    await sns.close();
    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(sns.received).toHaveLength(1);
  });

  it('DynamoDB: each attempt is cut off and retried, then the call fails with a TimeoutError', async () => {
    const dynamodb = await neverAnswers();
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig('dynamodb', { endpoint: dynamodb.endpoint })));
    const failure = await db.send(new GetCommand({ TableName: 't', Key: { pk: 'x' } })).catch((error: unknown) => error);
    db.destroy();
    await dynamodb.close();
    expect(failure).toMatchObject({ name: 'TimeoutError', $metadata: { attempts: CLIENT_SETTINGS.dynamodb.maxAttempts } });
    expect(dynamodb.received).toHaveLength(CLIENT_SETTINGS.dynamodb.maxAttempts);
  });
});

describe('cachedSecret', () => {
  let secretValue = 'first';
  let failNext = 0;
  let service: Awaited<ReturnType<typeof stubService>>;
  const arn = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:pepper';

  beforeAll(async () => {
    service = await stubService(({ target }, res) => {
      if (target !== 'secretsmanager.GetSecretValue' || failNext-- > 0) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: arn, Name: 'pepper', SecretString: secretValue, VersionId: 'v1' }));
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: service.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
  });
  afterAll(() => service.close());
  beforeEach(() => {
    service.received.length = 0;
  });

  it('a value given directly is that value, with no call', async () => {
    await expect(cachedSecret({ value: 'plain' }, 60)()).resolves.toBe('plain');
    expect(service.received).toHaveLength(0);
  });

  it('reads once at creation, serves the cache until it expires, then picks up a rotated value', async () => {
    secretValue = 'first';
    const pepper = cachedSecret({ secretArn: arn }, 1);
    const [a, b] = await Promise.all([pepper(), pepper()]);
    expect([a, b, await pepper()]).toEqual(['first', 'first', 'first']);
    expect(service.received).toHaveLength(1);
    secretValue = 'rotated';
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await pepper()).toBe('rotated');
    expect(service.received).toHaveLength(2);
  });

  it('a failed refresh keeps the last value read, and asks Secrets Manager again one cache period later', async () => {
    secretValue = 'kept';
    const pepper = cachedSecret({ secretArn: `${arn}-refresh` }, 1);
    expect(await pepper()).toBe('kept');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    failNext = 1;
    secretValue = 'rotated-while-down';
    expect(await pepper()).toBe('kept'); // the refresh failed
    expect(await pepper()).toBe('kept'); // not asked again yet
    expect(service.received).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await pepper()).toBe('rotated-while-down');
    expect(service.received).toHaveLength(3);
  });

  it('a failed read is not kept: the next ask reads again', async () => {
    failNext = 1;
    // Another secret: the cache is per container, and the one above holds `arn`.
    const pepper = cachedSecret({ secretArn: `${arn}-other` }, 60);
    await expect(pepper()).rejects.toThrow();
    await expect(pepper()).resolves.toBe(secretValue);
  });
});
