import {
  AccessDeniedExceptionReason,
  ConflictExceptionReason,
  PinpointSMSVoiceV2Client,
  ResourceType,
  ServiceQuotaExceededExceptionReason,
  ValidationExceptionReason,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { CLIENT_SETTINGS, clientConfig, type AwsService, type ClientSettings } from '../../functions/adapters/aws/client-config';
import { EndUserMessagingSmsFeedback } from '../../functions/adapters/sms/end-user-messaging-sms-feedback';
import { EndUserMessagingSmsSender, type EndUserMessagingSmsSettings } from '../../functions/adapters/sms/end-user-messaging-sms-sender';
import { SmsRefused } from '../../functions/ports';
import { neverAnswers, smsVoiceAnswer, smsVoiceError, stubService, type Reply, type StubService } from '../support/aws-stub';

/**
 * The End User Messaging SMS adapters through the real SDK client, set up by
 * client-config.ts, against a stub of the service on loopback that answers
 * (or fails) in its protocol, AWS JSON 1.0.
 */
const TO = '+8613800138000';
const SETTINGS: EndUserMessagingSmsSettings = { configurationSetName: 'phone-link-prod', maxPriceUsd: 0.05 };

const clientFor = (service: AwsService, endpoint: string, settings?: ClientSettings) =>
  new PinpointSMSVoiceV2Client({ ...clientConfig(service, { endpoint, settings }), region: 'eu-west-1' });

/** What the stub received: the operation (from X-Amz-Target) and its JSON input. */
const requestsTo = (service: StubService) => service.received.map((body) => JSON.parse(body) as Record<string, unknown>);

/** The send's failure, or undefined when it resolved. */
const failureOf = (sending: Promise<unknown>) =>
  sending.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('EndUserMessagingSmsSender', () => {
  let eum: StubService;
  let targets: (string | undefined)[];

  beforeAll(async () => {
    eum = await stubService(smsVoiceAnswer({ MessageId: 'msg-1' }));
  });
  afterAll(() => eum.close());
  beforeEach(() => {
    eum.received.length = 0;
    targets = [];
  });

  /** A sender whose stub also records each request's X-Amz-Target before answering `reply`. */
  const sender = (reply: Reply, settings: EndUserMessagingSmsSettings = SETTINGS, clientSettings?: ClientSettings) => {
    eum.answerWith((request, res) => {
      targets.push(request.target);
      reply(request, res);
    });
    return new EndUserMessagingSmsSender(settings, clientFor('smsVoice', eum.endpoint, clientSettings));
  };

  it('sends one transactional SendTextMessage through the configuration set, with the price cap and message feedback, and answers its MessageId', async () => {
    const sent = await sender(smsVoiceAnswer({ MessageId: 'msg-1' })).send(TO, 'Your code is 123456');

    expect(sent).toEqual({ messageId: 'msg-1' });
    expect(targets).toEqual(['PinpointSMSVoiceV2.SendTextMessage']);
    expect(requestsTo(eum)).toEqual([
      {
        DestinationPhoneNumber: TO,
        MessageBody: 'Your code is 123456',
        MessageType: 'TRANSACTIONAL',
        ConfigurationSetName: 'phone-link-prod',
        MaxPrice: '0.05',
        MessageFeedbackEnabled: true,
      },
    ]);
  });

  it('with no maximum price, sends no MaxPrice at all', async () => {
    await sender(smsVoiceAnswer({ MessageId: 'msg-2' }), { configurationSetName: 'phone-link-dev' }).send(TO, 'Your code is 123456');

    expect(requestsTo(eum)[0]).not.toHaveProperty('MaxPrice');
    expect(requestsTo(eum)[0]).toMatchObject({ ConfigurationSetName: 'phone-link-dev', MessageType: 'TRANSACTIONAL', MessageFeedbackEnabled: true });
  });

  it('refuses, at construction, settings the service would refuse on every send', () => {
    const client = clientFor('smsVoice', eum.endpoint);
    expect(() => new EndUserMessagingSmsSender({ configurationSetName: '' }, client)).toThrow(RangeError);
    expect(() => new EndUserMessagingSmsSender({ configurationSetName: 'cs', maxPriceUsd: 0 }, client)).toThrow(RangeError);
  });

  // Every error SendTextMessage can answer, each Reason the SDK models, and
  // what the sender makes of it: 'refused' (SmsRefused: nothing went out) or
  // 'unknown' (any other error: it may have). The SDK's own enums list the
  // reasons, so a reason added by an SDK upgrade is classified here too.
  const withReasons = (type: string, reasons: Record<string, string>) =>
    Object.values(reasons).map((reason) => ({
      answer: `${type} ${reason}`,
      reply: smsVoiceError(400, type, `Refused ${TO}: ${reason}`, { Reason: reason }),
      outcome: 'refused' as const,
    }));
  const answers: { answer: string; reply: Reply; outcome: 'refused' | 'unknown' }[] = [
    ...withReasons('ValidationException', ValidationExceptionReason),
    ...withReasons('ConflictException', ConflictExceptionReason),
    ...withReasons('AccessDeniedException', AccessDeniedExceptionReason),
    ...withReasons('ServiceQuotaExceededException', ServiceQuotaExceededExceptionReason),
    { answer: 'AccessDeniedException with no Reason (IAM)', reply: smsVoiceError(400, 'AccessDeniedException', 'User is not authorized to perform sms-voice:SendTextMessage'), outcome: 'refused' },
    ...Object.values(ResourceType).map((resourceType) => ({
      answer: `ResourceNotFoundException of a ${resourceType}`,
      reply: smsVoiceError(400, 'ResourceNotFoundException', `No such ${resourceType}`, { ResourceType: resourceType, ResourceId: 'x' }),
      outcome: 'refused' as const,
    })),
    { answer: 'a client fault it does not model (credentials refused)', reply: smsVoiceError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.'), outcome: 'refused' },
    { answer: 'ThrottlingException', reply: smsVoiceError(400, 'ThrottlingException', `Rate exceeded for ${TO}`), outcome: 'unknown' },
    { answer: 'HTTP 429, whatever the error is named', reply: smsVoiceError(429, 'SlowDown', 'Slow down'), outcome: 'unknown' },
    { answer: 'InternalServerException (500)', reply: smsVoiceError(500, 'InternalServerException', `Could not text ${TO}`, { RequestId: 'r-1' }), outcome: 'unknown' },
    { answer: 'HTTP 503', reply: smsVoiceError(503, 'ServiceUnavailableException', 'Unavailable'), outcome: 'unknown' },
    { answer: 'a 400 with no body (no one named an error)', reply: (_request, res) => (res.writeHead(400), res.end()), outcome: 'unknown' },
    { answer: 'a 400 that is not JSON (a proxy?)', reply: (_request, res) => (res.writeHead(400, { 'content-type': 'text/html' }), res.end('<html>Bad request')), outcome: 'unknown' },
    { answer: 'an answer that cannot be read', reply: (_request, res) => (res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }), res.end('{"MessageId')), outcome: 'unknown' },
    { answer: 'a dropped connection after the request went out', reply: (_request, res) => res.socket?.destroy(), outcome: 'unknown' },
  ];

  it.each(answers)('End User Messaging answers $answer: $outcome, after exactly one request, with the number masked', async ({ reply, outcome }) => {
    const failure = await failureOf(sender(reply).send(TO, 'Your code is 123456'));

    expect(failure).toBeInstanceOf(Error);
    expect(failure instanceof SmsRefused ? 'refused' : 'unknown').toBe(outcome);
    expect(eum.received).toHaveLength(1);
    const { message, stack } = failure as Error;
    expect(`${message}\n${stack}`).not.toContain(TO.slice(1));
  });

  it('a refusal says what the service answered, its Reason included, the number masked', async () => {
    const failure = await failureOf(
      sender(smsVoiceError(400, 'ValidationException', `The price to ${TO} is over the maximum`, { Reason: 'PRICE_OVER_THRESHOLD' })).send(TO, 'Your code is 123456'),
    );

    expect((failure as Error).message).toBe(
      'End User Messaging refused the SendTextMessage: ValidationException PRICE_OVER_THRESHOLD (HTTP 400): The price to +86138****8000 is over the maximum',
    );
  });

  it('names the resource a ResourceNotFoundException is about (a configuration set that is not there)', async () => {
    const failure = await failureOf(
      sender(smsVoiceError(400, 'ResourceNotFoundException', 'Configuration set not found', { ResourceType: 'configuration-set', ResourceId: 'phone-link-prod' })).send(TO, 'x'),
    );

    expect((failure as Error).message).toBe('End User Messaging refused the SendTextMessage: ResourceNotFoundException configuration-set (HTTP 400): Configuration set not found');
  });

  it('an answer that never comes: a TimeoutError after its one attempt (an unknown outcome), and no second SMS goes out', async () => {
    // The cloud's settings but a shorter wait, so the test does not sit out the real one.
    const failure = await failureOf(sender(neverAnswers, SETTINGS, { ...CLIENT_SETTINGS.smsVoice, requestTimeout: 200 }).send(TO, 'Your code is 123456'));

    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(failure).not.toBeInstanceOf(SmsRefused);
    expect(eum.received).toHaveLength(1);
  });

  it('an error that only looks like a refusal, but is no answer from the service, leaves the outcome unknown', async () => {
    const lookalike = Object.assign(new Error('Invalid parameter'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const client = { send: () => Promise.reject(lookalike) } as unknown as PinpointSMSVoiceV2Client;

    const failure = await failureOf(new EndUserMessagingSmsSender(SETTINGS, client).send(TO, 'Your code is 123456'));

    expect(failure).toBe(lookalike);
  });
});

describe('EndUserMessagingSmsFeedback', () => {
  let eum: StubService;
  let targets: (string | undefined)[];

  beforeAll(async () => {
    eum = await stubService(neverAnswers);
  });
  afterAll(() => eum.close());
  beforeEach(() => {
    eum.received.length = 0;
    targets = [];
    // The SDK's pauses between attempts at their shortest: retries without the wait.
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(() => jest.restoreAllMocks());

  /** Answers each request with the next reply, the last one from then on. */
  const feedback = (...replies: Reply[]) => {
    let next = 0;
    eum.answerWith((request, res) => {
      targets.push(request.target);
      replies[Math.min(next++, replies.length - 1)]!(request, res);
    });
    return new EndUserMessagingSmsFeedback(clientFor('smsVoiceFeedback', eum.endpoint));
  };
  const received = smsVoiceAnswer({ MessageId: 'msg-1', MessageFeedbackStatus: 'RECEIVED' });

  it('reports the message as RECEIVED, by its MessageId', async () => {
    await expect(feedback(received).reportConverted('msg-1')).resolves.toBe('reported');

    expect(targets).toEqual(['PinpointSMSVoiceV2.PutMessageFeedback']);
    expect(requestsTo(eum)).toEqual([{ MessageId: 'msg-1', MessageFeedbackStatus: 'RECEIVED' }]);
  });

  it.each([
    ['a server fault', smsVoiceError(500, 'InternalServerException', 'Internal error')],
    ['throttling', smsVoiceError(400, 'ThrottlingException', 'Rate exceeded')],
    ['a dropped connection', ((_request, res) => res.socket?.destroy()) as Reply],
  ])('sends it again after %s, since the same report twice is harmless', async (_fault, fault) => {
    await expect(feedback(fault, received).reportConverted('msg-1')).resolves.toBe('reported');

    expect(requestsTo(eum)).toEqual([
      { MessageId: 'msg-1', MessageFeedbackStatus: 'RECEIVED' },
      { MessageId: 'msg-1', MessageFeedbackStatus: 'RECEIVED' },
    ]);
  });

  it('gives up after its attempts, and throws for the caller to try again later', async () => {
    const failure = await failureOf(feedback(smsVoiceError(500, 'InternalServerException', 'Internal error')).reportConverted('msg-1'));

    expect(failure).toMatchObject({ name: 'InternalServerException' });
    expect(eum.received).toHaveLength(CLIENT_SETTINGS.smsVoiceFeedback.maxAttempts);
  });

  it.each([
    ['a message it does not know', smsVoiceError(400, 'ResourceNotFoundException', 'No such message', { ResourceType: 'message', ResourceId: 'msg-x' })],
    ['a message id it refuses', smsVoiceError(400, 'ValidationException', 'Invalid MessageId', { Reason: 'INVALID_PARAMETER' })],
  ])('answers rejected, after one request, for %s: asking again would change nothing', async (_case, reply) => {
    await expect(feedback(reply).reportConverted('msg-x')).resolves.toBe('rejected');

    expect(eum.received).toHaveLength(1);
  });

  it('throws, after one request, when it is not allowed to report (a deployment fault to see, not to drop)', async () => {
    const failure = await failureOf(feedback(smsVoiceError(400, 'AccessDeniedException', 'User is not authorized to perform sms-voice:PutMessageFeedback')).reportConverted('msg-1'));

    expect(failure).toMatchObject({ name: 'AccessDeniedException' });
    expect(eum.received).toHaveLength(1);
  });
});
