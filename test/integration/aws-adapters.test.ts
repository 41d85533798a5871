import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { CLIENT_SETTINGS, clientConfig } from '../../functions/adapters/aws/client-config';
import { createSecretsManagerClient } from '../../functions/adapters/aws/clients';
import { cachedSecret } from '../../functions/adapters/secrets/cached-secret';
import { SnsSmsSender } from '../../functions/adapters/sms/sns-sms-sender';
import { SmsRefused } from '../../functions/ports';
import { neverAnswers, published, snsError, stubService, type Reply } from '../support/aws-stub';

/**
 * The SNS and Secrets Manager adapters through the real SDK clients, set up
 * by client-config.ts, against a stub server on loopback that answers (or
 * fails) as the service would.
 */
const TO = '+8613800138000';

describe('SnsSmsSender', () => {
  const sender = (endpoint: string, senderId?: string) =>
    new SnsSmsSender({ senderId }, new SNSClient({ ...clientConfig('sns', { endpoint }), region: 'eu-west-1' }));

  it('publishes a transactional SMS straight to the number, with the sender id when set, and answers SNS\'s MessageId', async () => {
    const sns = await stubService(published);
    const sent = await sender(sns.endpoint, 'PHONELINK').send(TO, 'Your code is 123456');
    await sns.close();
    expect(sent).toEqual({ messageId: 'm-1' });
    expect(sns.received).toHaveLength(1);
    const form = Object.fromEntries(new URLSearchParams(sns.received[0]));
    expect(form).toMatchObject({ Action: 'Publish', PhoneNumber: TO, Message: 'Your code is 123456' });
    const attributes = Object.entries(form).filter(([name]) => name.startsWith('MessageAttributes')).map(([, value]) => value);
    expect(attributes).toEqual(expect.arrayContaining(['AWS.SNS.SMS.SMSType', 'Transactional', 'AWS.SNS.SMS.SenderID', 'PHONELINK']));
  });

  // What SNS answers to a Publish, and what the sender makes of it: 'refused'
  // (SmsRefused: nothing went out) or 'unknown' (any other error: it may have).
  const answers: { answer: string; reply: Reply; outcome: 'refused' | 'unknown' }[] = [
    { answer: 'an invalid number (InvalidParameter)', reply: snsError(400, 'InvalidParameter', `Invalid parameter: PhoneNumber Reason: ${TO} is not valid to publish to`), outcome: 'refused' },
    { answer: 'an invalid parameter value', reply: snsError(400, 'InvalidParameterValue', 'Invalid parameter value'), outcome: 'refused' },
    { answer: 'an opted-out number', reply: snsError(400, 'OptedOut', `Phone number ${TO.slice(1)} is opted out`), outcome: 'refused' },
    { answer: 'a refused authorization (IAM, the SMS sandbox)', reply: snsError(403, 'AuthorizationError', 'User is not authorized to perform SNS:Publish'), outcome: 'refused' },
    { answer: 'a disabled endpoint', reply: snsError(400, 'EndpointDisabled', 'Endpoint is disabled'), outcome: 'refused' },
    { answer: 'a client fault SNS does not model', reply: snsError(400, 'SomethingNew', 'Refused'), outcome: 'refused' },
    { answer: 'throttling (Throttling)', reply: snsError(400, 'Throttling', 'Rate exceeded'), outcome: 'unknown' },
    { answer: 'throttling (Throttled)', reply: snsError(400, 'Throttled', 'Rate exceeded'), outcome: 'unknown' },
    { answer: 'HTTP 429', reply: snsError(429, 'TooManyRequests', 'Slow down', 'Sender'), outcome: 'unknown' },
    { answer: 'a server fault (500 InternalError)', reply: snsError(500, 'InternalError', 'Internal error'), outcome: 'unknown' },
    { answer: 'a server fault naming the number', reply: snsError(500, 'InternalError', `Could not text ${TO}`), outcome: 'unknown' },
    { answer: 'HTTP 503', reply: snsError(503, 'ServiceUnavailable', 'Unavailable'), outcome: 'unknown' },
    { answer: 'a dropped connection after the request went out', reply: (_request, res) => res.socket?.destroy(), outcome: 'unknown' },
    { answer: 'an answer that cannot be read', reply: (_request, res) => (res.writeHead(200, { 'content-type': 'text/xml' }), res.end('<Publish')), outcome: 'unknown' },
  ];

  it.each(answers)('SNS answers $answer: $outcome, after exactly one Publish, with the number masked', async ({ reply, outcome }) => {
    const sns = await stubService(reply);
    const failure = await sender(sns.endpoint).send(TO, 'Your code is 123456').then(
      () => undefined,
      (error: unknown) => error,
    );
    await sns.close();
    expect(failure).toBeInstanceOf(Error);
    expect(failure instanceof SmsRefused ? 'refused' : 'unknown').toBe(outcome);
    expect(sns.received).toHaveLength(1);
    const { message, stack } = failure as Error;
    expect(`${message}\n${stack}`).not.toContain(TO.slice(1));
  });

  it('an error that only looks like an SNS refusal, but is no answer from SNS, leaves the outcome unknown', async () => {
    const lookalike = Object.assign(new Error('Invalid parameter'), { name: 'InvalidParameterException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const client = { send: () => Promise.reject(lookalike) } as unknown as SNSClient;
    const failure = await new SnsSmsSender({ senderId: undefined }, client).send(TO, 'Your code is 123456').catch((error: unknown) => error);
    expect(failure).toBe(lookalike);
  });

  it('a refusal says what SNS answered, the number masked', async () => {
    const sns = await stubService(snsError(400, 'InvalidParameter', `Invalid parameter: PhoneNumber Reason: ${TO} is not valid to publish to`));
    const failure = await sender(sns.endpoint).send(TO, 'Your code is 123456').catch((error: unknown) => error);
    await sns.close();
    expect((failure as Error).message).toBe(
      'SNS refused the Publish: InvalidParameterException (HTTP 400): Invalid parameter: PhoneNumber Reason: +86138****8000 is not valid to publish to',
    );
  });
});

describe('a call whose answer never comes', () => {
  it('SNS: the Publish fails with a TimeoutError after its one attempt (an unknown outcome), and no second SMS goes out', async () => {
    const sns = await stubService(neverAnswers);
    const client = new SNSClient({ ...clientConfig('sns', { endpoint: sns.endpoint }), region: 'eu-west-1' });
    const failure = await new SnsSmsSender({ senderId: undefined }, client).send(TO, 'Your code is 123456').catch((error: unknown) => error);
    client.destroy();
    await sns.close();
    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(failure).not.toBeInstanceOf(SmsRefused);
    expect(sns.received).toHaveLength(1);
  });

  it('DynamoDB: each attempt is cut off and retried, then the call fails with a TimeoutError', async () => {
    const dynamodb = await stubService(neverAnswers);
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
    const noClient = (): never => {
      throw new Error('a value needs no Secrets Manager client');
    };
    await expect(cachedSecret({ value: 'plain' }, noClient, 60)()).resolves.toBe('plain');
    expect(service.received).toHaveLength(0);
  });

  it('reads once at creation, serves the cache until it expires, then picks up a rotated value', async () => {
    secretValue = 'first';
    const pepper = cachedSecret({ secretArn: arn }, createSecretsManagerClient, 1);
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
    const pepper = cachedSecret({ secretArn: `${arn}-refresh` }, createSecretsManagerClient, 1);
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
    const pepper = cachedSecret({ secretArn: `${arn}-other` }, createSecretsManagerClient, 60);
    await expect(pepper()).rejects.toThrow();
    await expect(pepper()).resolves.toBe(secretValue);
  });
});
