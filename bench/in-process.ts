/**
 * The in-process part of `npm run bench`, run by bench/run.ts in a child
 * process whose stdout is discarded, so the handlers log and emit metrics as
 * in production (POWERTOOLS_LOG_LEVEL=INFO, metrics on) without burying the
 * report. Measures, against the DynamoDB Local at DYNAMODB_ENDPOINT:
 *
 *  - DynamoDB calls per request, counted on the handlers' client;
 *  - handler latency against the floor (the same DynamoDB calls issued
 *    directly through the SDK's document client, on a client of its own),
 *    interleaved: handler, floor, parameter error, send, ...;
 *  - throughput of the local server under autocannon.
 *
 * Codes are prepared beforehand through the real sendPhoneSmsCode handler
 * and the local outbox, with the send limits out of the way (GENEROUS_LIMITS).
 *
 * Writes one JSON line to file descriptor 3.
 */
import { writeSync } from 'node:fs';
import autocannon from 'autocannon';
import { readCodeSettings } from '../functions/config';
import { lambdaContext, toApiGatewayEvent } from '../local/api-gateway-event';
import { createLocalApp, type HttpHandler, type LocalApp } from '../local/app';
import { createTables } from '../local/dynamodb-local';
import { startLocalServer } from '../local/server';
import {
  CODE_PEPPER,
  GENEROUS_LIMITS,
  PhoneNumbers,
  prepareLinks,
  RELATION_PHONE_PATH,
  relationPhoneQuery,
  SEND_CODE_PATH,
  sendQuery,
  USER_DOMAIN,
  USER_DOMAIN_SECRET,
  type LinkFixture,
} from './fixtures';
import { recordCalls } from '../test/support/faults';
import { floorLink, sdkFloorClient } from './floor';
import { p50p99, round } from './stats';

const settings = {
  warmup: Number(process.env.BENCH_WARMUP ?? 100),
  samples: Number(process.env.BENCH_SAMPLES ?? 400),
  throughputSeconds: Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 5),
  throughputConnections: 10,
  /** Codes prepared for the success-path throughput run: it ends when they are used up or after throughputSeconds. */
  throughputCodes: Number(process.env.BENCH_THROUGHPUT_CODES ?? 1200),
};

const TABLES = { codesTableName: 'bench-hot-codes', usersTableName: 'bench-hot-users' };
/** A parameter error: the number is not a phone number. Answers 5019 after the token check, with no database call. */
const INVALID_PHONE = '12345';

async function main(): Promise<void> {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set');
  await createTables(endpoint, TABLES);
  const app = await createLocalApp({
    endpoint,
    userDomain: USER_DOMAIN,
    userDomainSecret: USER_DOMAIN_SECRET,
    env: { CODES_TABLE_NAME: TABLES.codesTableName, USERS_TABLE_NAME: TABLES.usersTableName, CODE_PEPPER, ...GENEROUS_LIMITS },
  });
  const phones = new PhoneNumbers('139');

  const ddbCallsPerRequest = await countCalls(app, phones);
  const { latencyMs, sendPhoneSmsCodeWithoutSns } = await measureLatency(app, phones, endpoint);
  const throughput = await measureThroughput(app, phones);
  writeSync(3, `${JSON.stringify({ ddbCallsPerRequest, latencyMs, throughput, sendPhoneSmsCodeWithoutSns })}\n`);
  app.db.destroy();
}

const invoke = async (handler: HttpHandler, path: string, rawQueryString: string, headers: Record<string, string> = {}) => {
  const result = await handler(toApiGatewayEvent({ method: 'POST', path, rawQueryString, headers, sourceIp: '203.0.113.9' }), lambdaContext(path));
  return (JSON.parse(result.body) as { code: number }).code;
};

const linkRequest = (fixture: LinkFixture, code = fixture.code) => ({
  query: relationPhoneQuery({ phone: fixture.phone, code }),
  headers: { authorization: `Bearer ${fixture.token}` },
});

function expectCode(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what} answered ${actual}, expected ${expected}`);
}

/** DynamoDB calls per request, recorded on the client the handlers use (one count per call, retries aside). */
async function countCalls(app: LocalApp, phones: PhoneNumbers): Promise<Record<string, number>> {
  const recorder = recordCalls(app.db);
  const counted = async (run: () => Promise<number>, expected: number, what: string): Promise<number> => {
    recorder.operations.length = 0;
    expectCode(await run(), expected, what);
    return recorder.operations.length;
  };
  const [success, wrong] = await prepareLinks(app, phones, 2);
  if (!success || !wrong) throw new Error('no fixtures');
  const wrongCode = wrong.code === '000000' ? '000001' : '000000';
  const sendPhone = phones.take();
  const counts = {
    'relationPhone.success': await counted(() => invoke(app.handlers.relationPhone, RELATION_PHONE_PATH, linkRequest(success).query, linkRequest(success).headers), 200, 'relationPhone'),
    'relationPhone.validationError': await counted(
      () => invoke(app.handlers.relationPhone, RELATION_PHONE_PATH, relationPhoneQuery({ phone: INVALID_PHONE, code: '123456' }), linkRequest(success).headers),
      5019,
      'relationPhone with an invalid phone',
    ),
    'relationPhone.wrongCode': await counted(
      () => invoke(app.handlers.relationPhone, RELATION_PHONE_PATH, linkRequest(wrong, wrongCode).query, linkRequest(wrong).headers),
      5037,
      'relationPhone with a wrong code',
    ),
    'sendPhoneSmsCode.success': await counted(() => invoke(app.handlers.sendPhoneSmsCode, SEND_CODE_PATH, sendQuery(sendPhone)), 200, 'sendPhoneSmsCode'),
  };
  recorder.stop();
  return counts;
}

/**
 * Handler, floor and parameter error in turn (and a sendPhoneSmsCode, for
 * the cost estimate), each timed on its own; the first `warmup` rounds are
 * dropped. Events are built before the clock starts: that is API Gateway's work.
 */
async function measureLatency(app: LocalApp, phones: PhoneNumbers, endpoint: string) {
  const rounds = settings.warmup + settings.samples;
  const forHandler = await prepareLinks(app, phones, rounds);
  const forFloor = await prepareLinks(app, phones, rounds);
  const maxWrongTries = readCodeSettings({}).maxWrongTries;
  const floorClient = sdkFloorClient(endpoint);
  const times = { success: [] as number[], floor: [] as number[], validationError: [] as number[], send: [] as number[] };
  const event = (path: string, rawQueryString: string, headers: Record<string, string> = {}) =>
    toApiGatewayEvent({ method: 'POST', path, rawQueryString, headers, sourceIp: '203.0.113.9' });
  const timed = async <T>(samples: number[], run: () => Promise<T>, keep: boolean): Promise<T> => {
    const start = performance.now();
    const result = await run();
    if (keep) samples.push(performance.now() - start);
    return result;
  };
  const answered = (result: { body: string }, expected: number, what: string) =>
    expectCode((JSON.parse(result.body) as { code: number }).code, expected, what);

  for (let round = 0; round < rounds; round++) {
    const keep = round >= settings.warmup;
    const fixture = forHandler[round] as LinkFixture;
    const { query, headers } = linkRequest(fixture);
    const linkEvent = event(RELATION_PHONE_PATH, query, headers);
    const invalidEvent = event(RELATION_PHONE_PATH, relationPhoneQuery({ phone: INVALID_PHONE, code: '123456' }), headers);
    const sendEvent = event(SEND_CODE_PATH, sendQuery(phones.take()));
    const context = lambdaContext('relationPhone');
    const sendContext = lambdaContext('sendPhoneSmsCode');

    answered(await timed(times.success, () => app.handlers.relationPhone(linkEvent, context), keep), 200, 'relationPhone');
    await timed(times.floor, () => floorLink(floorClient, TABLES, forFloor[round] as LinkFixture, maxWrongTries), keep);
    answered(await timed(times.validationError, () => app.handlers.relationPhone(invalidEvent, context), keep), 5019, 'relationPhone, invalid phone');
    answered(await timed(times.send, () => app.handlers.sendPhoneSmsCode(sendEvent, sendContext), keep), 200, 'sendPhoneSmsCode');
  }
  floorClient.destroy();
  return {
    latencyMs: {
      'relationPhone.success': p50p99(times.success),
      floor: p50p99(times.floor),
      'relationPhone.validationError': p50p99(times.validationError),
    },
    // The local outbox stands in for SNS: the DynamoDB part of a send, without the SMS provider's round trip.
    sendPhoneSmsCodeWithoutSns: p50p99(times.send),
  };
}

/** The local server (in this process, on 127.0.0.1) under autocannon, one path at a time. */
async function measureThroughput(app: LocalApp, phones: PhoneNumbers) {
  const pool = await prepareLinks(app, phones, settings.throughputCodes);
  const server = await startLocalServer({ app, port: 0 });
  try {
    const token = (pool[0] as LinkFixture).token;
    const parameterError = await autocannon({
      url: server.url,
      connections: settings.throughputConnections,
      duration: settings.throughputSeconds,
      requests: [{ method: 'POST', path: `${RELATION_PHONE_PATH}?${relationPhoneQuery({ phone: INVALID_PHONE, code: '123456' })}`, headers: { authorization: `Bearer ${token}` } }],
    });

    // Each successful link uses up its code: every request takes the next prepared one.
    let next = 0;
    const answers = new Map<number, number>();
    const success = await boundedAutocannon({
      url: server.url,
      connections: Math.min(settings.throughputConnections, pool.length),
      amount: pool.length,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const fixture = pool[Math.min(next++, pool.length - 1)] as LinkFixture;
            const { query, headers } = linkRequest(fixture);
            return { ...request, path: `${RELATION_PHONE_PATH}?${query}`, headers };
          },
          onResponse: (_status, body) => {
            const code = (JSON.parse(body) as { code: number }).code;
            answers.set(code, (answers.get(code) ?? 0) + 1);
          },
        },
      ],
    }, settings.throughputSeconds);
    const linked = answers.get(200) ?? 0;
    return {
      'relationPhone.validationError': {
        reqPerSec: round(parameterError.requests.average, 1),
        p99Ms: parameterError.latency.p99,
        requests: parameterError.requests.total,
        seconds: round(parameterError.duration, 1),
        errors: parameterError.errors + parameterError.non2xx,
        connections: settings.throughputConnections,
      },
      'relationPhone.success': {
        reqPerSec: round(linked / success.duration, 1),
        p99Ms: success.latency.p99,
        requests: success.requests.total,
        seconds: round(success.duration, 1),
        // Anything but a link counts: a refusal is HTTP 200 too.
        errors: success.errors + success.non2xx + (success.requests.total - linked),
        connections: settings.throughputConnections,
      },
    };
  } finally {
    await server.close();
  }
}

/** autocannon that stops after `amount` requests or `seconds`, whichever comes first (with `amount`, autocannon ignores `duration`). */
function boundedAutocannon(options: autocannon.Options, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(result);
    });
    const timer = setTimeout(() => instance.stop(), seconds * 1000);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
