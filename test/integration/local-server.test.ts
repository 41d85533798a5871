import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pathTo, ROUTES } from '../../functions/http/routes';
import { startLocalServer, type LocalServer, type LocalServerApp, type LocalServerTimeouts } from '../../local/server';
import { signedSendQuery } from '../support/app-client';
import { refusalBody } from '../support/envelopes';
import { startServerOnFreshTables, type StartedServer } from '../support/local-server';
import { capturedLogLines } from '../support/log-hygiene';

// The local server over real HTTP: requests become API Gateway events for the
// real handlers, on fresh tables of the shared DynamoDB Local.

const USER_DOMAIN = 'test.phonelink';
const USER_DOMAIN_SECRET = 'local-server-test-secret';
const PHONE = '13800138000';
const OTHER_PHONE = '13900139000';
const SEND_PATH = ROUTES.sendPhoneSmsCode.path;
const LINK_PATH = ROUTES.relationPhone.path;
const USER_INFO_PATH = ROUTES.userInfo.path;
const UNLINK_PATH = ROUTES.deletePhoneRelation.path;
const adminUser = (uid: string) => pathTo(ROUTES.adminGetUser, { uid });

/** The shared local server on fresh tables, under this file's user domain. */
const start = (env: Record<string, string> = {}, timeouts?: Partial<LocalServerTimeouts>): Promise<StartedServer> =>
  startServerOnFreshTables('local-server', { userDomain: USER_DOMAIN, userDomainSecret: USER_DOMAIN_SECRET, env, timeouts });

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `request` byte for byte on a fresh connection (fetch cannot send a
 * malformed request, nor choose its Host) and reads what comes back until
 * the server closes the connection, which every request here asks or makes
 * it do. `whenWritten` acts on the socket once the request is written.
 */
function rawExchange(port: number, request: string, whenWritten?: (socket: ReturnType<typeof connect>) => void): Promise<RawAnswer | 'closed without an answer'> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve('closed without an answer');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(request, () => whenWritten?.(socket));
  });
}

/**
 * Writes `requests` (several, pipelined) in one go on a fresh connection and
 * reads every answer until the server closes it: each answer is framed by
 * its Content-Length, as this server always sends one.
 */
async function rawAnswers(port: number, requests: string): Promise<RawAnswer[]> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(requests);
  await once(socket, 'close');
  const answers: RawAnswer[] = [];
  let rest = Buffer.concat(chunks);
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new Error(`an answer cut short: ${JSON.stringify(rest.toString('utf8'))}`);
    const [statusLine = '', ...headerLines] = rest.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`an answer without a Content-Length: ${statusLine}`);
    const bodyEnd = headEnd + 4 + length;
    answers.push({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]), headers, body: rest.subarray(headEnd + 4, bodyEnd).toString('utf8') });
    rest = rest.subarray(bodyEnd);
  }
  return answers;
}

/** The answer as the envelope, with the status and content type it came with. */
const enveloped = (answer: RawAnswer | string) =>
  typeof answer === 'string' ? answer : { status: answer.status, contentType: answer.headers['content-type'], body: JSON.parse(answer.body) as unknown };

const jsonEnvelope = (status: number, msg: string) => ({ status, contentType: 'application/json; charset=utf-8', body: refusalBody(status, msg) });

/** The structured log lines written since `from` (an index into the captured lines). */
const logMessagesSince = (from: number): ({ level: string; message: string } & Record<string, unknown>)[] =>
  capturedLogLines()
    .slice(from)
    .map((line) => JSON.parse(line) as { level: string; message: string } & Record<string, unknown>);

/** Waits (a bounded time) until a log line with one of `messages` is written after `from`. */
async function logLineAfter(from: number, messages: string[]): Promise<void> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (logMessagesSince(from).some((line) => messages.includes(line.message))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function call(base: string, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, { method, ...init });
  return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
}

/** The app's signed send request, as a client builds it, as a query string. */
const sendQuery = (phone: string, codeType = '6', internationalCode = '86'): string =>
  new URLSearchParams(signedSendQuery({ phone, internationalCode, codeType, userDomain: USER_DOMAIN }, USER_DOMAIN_SECRET)).toString();

/** The code in the latest SMS to a number: the only run of six digits in its text. */
function codeIn(messages: { text: string }[]): string {
  const codes = messages.at(-1)?.text.match(/\d{6}/g) ?? [];
  expect(codes).toHaveLength(1);
  return codes[0]!;
}

describe('local server', () => {
  let started: StartedServer;
  let base: string;
  const get = (path: string, headers?: Record<string, string>) => call(base, 'GET', path, { headers });
  const post = (path: string, body?: string, headers?: Record<string, string>) => call(base, 'POST', path, { body, headers });

  beforeAll(async () => {
    started = await start({ SMS_COOLDOWN_SECONDS: '0' });
    base = started.server.url;
  });
  afterAll(() => started.server.close());

  it('listens on loopback, on the port it was given (0: a free one)', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.server.port).toBeGreaterThan(0);
  });

  it('answers GET /_local/health with 200', async () => {
    expect(await get('/_local/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  describe('POST /_local/users', () => {
    it('makes a new user and a working token without a uid: no body, empty body, {}', async () => {
      const uids = new Set<string>();
      for (const body of [undefined, '', '  ', '{}']) {
        const answer = await post('/_local/users', body);
        expect(answer).toMatchObject({ status: 200, body: { uid: expect.stringMatching(/^[0-9a-f-]{36}$/), accessToken: expect.any(String) } });
        const { uid, accessToken } = answer.body as { uid: string; accessToken: string };
        uids.add(uid);
        const info = await get(USER_INFO_PATH, { Authorization: `Bearer ${accessToken}` });
        expect(info.body).toMatchObject({ code: 200, data: { uid, phone: null, internationalCode: null, phoneLinkedAt: null } });
        expect((await get(adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: true } });
      }
      expect(uids.size).toBe(4);
    });

    it('keeps an existing user for the same uid, whatever the content type', async () => {
      const uid = `dev-${randomUUID()}@local:1.x_y`;
      const first = await post('/_local/users', JSON.stringify({ uid }), { 'content-type': 'application/json' });
      // curl -d sends application/x-www-form-urlencoded; the body is still read as JSON.
      const second = await post('/_local/users', JSON.stringify({ uid }), { 'content-type': 'application/x-www-form-urlencoded' });
      expect(first).toMatchObject({ status: 200, body: { uid } });
      expect(second).toMatchObject({ status: 200, body: { uid } });
      for (const answer of [first, second]) {
        const info = await get(USER_INFO_PATH, { Authorization: `Bearer ${String(answer.body.accessToken)}` });
        expect(info.body).toMatchObject({ code: 200, data: { uid } });
      }
    });

    it.each([
      ['a body that is not JSON', 'uid=alice'],
      ['a JSON array', '[]'],
      ['JSON null', 'null'],
      ['a uid that is not a string', '{"uid": 42}'],
      ['a null uid', '{"uid": null}'],
      ['an empty uid', '{"uid": ""}'],
      ['a uid with a space', '{"uid": "a b"}'],
      ['a uid with a slash', '{"uid": "a/b"}'],
      ['a uid of 129 characters', JSON.stringify({ uid: 'a'.repeat(129) })],
      ['a uid of two dots', '{"uid": ".."}'],
      ['a uid of one dot', '{"uid": "."}'],
    ])('answers 400 for %s', async (_case, body) => {
      expect(await post('/_local/users', body)).toEqual({
        status: 400,
        contentType: 'application/json; charset=utf-8',
        body: refusalBody(400, 'Invalid parameter: uid'),
      });
    });

    it('accepts a uid of 128 characters', async () => {
      const uid = 'u'.repeat(120) + randomBytes(4).toString('hex');
      expect(await post('/_local/users', JSON.stringify({ uid }))).toMatchObject({ status: 200, body: { uid } });
    });
  });

  describe('POST /_local/tokens', () => {
    it('signs a working token for the uid and writes nothing: the user is known on first use', async () => {
      const uid = `login-only-${randomUUID()}`;
      const answer = await post('/_local/tokens', JSON.stringify({ uid }), { 'content-type': 'application/json' });
      expect(answer).toMatchObject({ status: 200, body: { uid, accessToken: expect.any(String) } });
      expect((await get(adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: false } });
      const authorization = { Authorization: `Bearer ${String(answer.body.accessToken)}` };
      expect((await get(USER_INFO_PATH, authorization)).body).toMatchObject({ code: 200, data: { uid, phone: null } });
      expect((await get(adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: false } });

      const phone = '13900139111';
      await post(`${SEND_PATH}?${sendQuery(phone, '3')}`);
      const code = codeIn(started.app.outbox.messagesTo(`+86${phone}`));
      const linked = await call(base, 'POST', `${LINK_PATH}?${new URLSearchParams({ phone, code, internationalCode: '86' })}`, { headers: authorization });
      expect(linked.body).toMatchObject({ code: 200 });
      expect((await get(adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: true, phone } });
    });

    it.each([
      ['a body that is not JSON', 'uid=alice'],
      ['a uid with a space', '{"uid": "a b"}'],
      ['a uid of 129 characters', JSON.stringify({ uid: 'a'.repeat(129) })],
      ['a uid of two dots', '{"uid": ".."}'],
    ])('answers 400 for %s', async (_case, body) => {
      expect(await post('/_local/tokens', body)).toMatchObject({ status: 400, body: refusalBody(400, 'Invalid parameter: uid') });
    });
  });

  it('runs the whole flow: user, signed send, code from the outbox, link, userInfo', async () => {
    const { accessToken, uid } = (await post('/_local/users')).body as { uid: string; accessToken: string };

    const sent = await post(`${SEND_PATH}?${sendQuery(PHONE)}`);
    expect(sent).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', body: { code: 200, msg: 'SMS verification code sent', extMsg: '', data: {} } });

    const outbox = await get('/_local/outbox?phone=%2B8613800138000');
    expect(outbox.status).toBe(200);
    const messages = outbox.body.messages as { to: string; text: string; sentAt: string; messageId: string }[];
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toEqual({ to: '+8613800138000', text: expect.any(String), sentAt: expect.any(String), messageId: expect.stringMatching(/^outbox-\d+$/) });
    expect(new Date(message!.sentAt).toISOString()).toBe(message!.sentAt);
    const linked = await post(`${LINK_PATH}?${new URLSearchParams({ phone: PHONE, code: codeIn(messages), internationalCode: '86' })}`, undefined, {
      Authorization: `Bearer ${accessToken}`,
    });
    expect(linked).toMatchObject({ status: 200, body: { code: 200, msg: 'Phone number linked successfully', extMsg: '', data: {} } });

    const info = await get(USER_INFO_PATH, { Authorization: `Bearer ${accessToken}` });
    expect(info).toMatchObject({ status: 200, body: { code: 200, msg: 'Success', extMsg: '' } });
    const data = info.body.data as Record<string, unknown>;
    expect(data).toMatchObject({ uid, phone: PHONE, internationalCode: '86' });
    expect(new Date(String(data.phoneLinkedAt)).toISOString()).toBe(data.phoneLinkedAt);

    // And back: a codeType 7 code to the same phone unlinks it.
    expect((await post(`${SEND_PATH}?${sendQuery(PHONE, '7')}`)).body).toMatchObject({ code: 200 });
    const unlinkCode = codeIn((await get('/_local/outbox?phone=%2B8613800138000')).body.messages as { text: string }[]);
    const unlinked = await call(base, 'DELETE', `${UNLINK_PATH}?code=${unlinkCode}`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(unlinked).toMatchObject({ status: 200, body: { code: 200, extMsg: '', data: {} } });
    expect((await get(USER_INFO_PATH, { Authorization: `Bearer ${accessToken}` })).body).toMatchObject({
      code: 200,
      data: { uid, phone: null, internationalCode: null, phoneLinkedAt: null },
    });
  });

  it.each<[string, string, (params: Record<string, string>) => string]>([
    ['a form body', 'application/x-www-form-urlencoded', (params) => new URLSearchParams(params).toString()],
    ['a JSON body', 'application/json; charset=utf-8', (params) => JSON.stringify(params)],
  ])('takes the parameters from %s: send, link, unlink', async (_case, contentType, encode) => {
    const { accessToken } = (await post('/_local/users')).body as { accessToken: string };
    const headers = { 'Content-Type': contentType, Authorization: `Bearer ${accessToken}`, 'X-Q-Language': 'zh-CN' };
    const outbox = async () => (await get(`/_local/outbox?phone=%2B86${PHONE}`)).body.messages as { text: string }[];
    const signed = (codeType: string) => Object.fromEntries(new URLSearchParams(sendQuery(PHONE, codeType)));

    expect((await post(SEND_PATH, encode(signed('3')), headers)).body).toMatchObject({ code: 200, msg: '短信验证码已发送' });
    const sms = (await outbox()).at(-1)?.text ?? '';
    expect(sms).toMatch(/^您的验证码是\d{6}，/);
    expect((await post(LINK_PATH, encode({ phone: PHONE, code: codeIn(await outbox()) }), headers)).body).toMatchObject({ code: 200, msg: '手机号绑定成功' });

    expect((await post(SEND_PATH, encode(signed('4')), headers)).body).toMatchObject({ code: 200 });
    const unlinked = await call(base, 'DELETE', UNLINK_PATH, { body: encode({ code: codeIn(await outbox()) }), headers });
    expect(unlinked.body).toMatchObject({ code: 200, msg: '手机号解绑成功' });
  });

  it('answers 400 "Invalid parameter: body" for a body it cannot read, and still reads a blank one as none', async () => {
    const { accessToken } = (await post('/_local/users')).body as { accessToken: string };
    const auth = { Authorization: `Bearer ${accessToken}` };
    expect(await post(LINK_PATH, '{"phone": ', { ...auth, 'Content-Type': 'application/json' })).toEqual({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: refusalBody(400, 'Invalid parameter: body'),
    });
    expect((await post(`${LINK_PATH}?code=123456`, '  ', { ...auth, 'Content-Type': 'application/json' })).body).toEqual(refusalBody(5021, 'Please enter phone number'));
  });

  it('answers business refusals with HTTP 200 and the code, as in the cloud', async () => {
    expect(await get(USER_INFO_PATH)).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', body: refusalBody(5106, 'Please enter token') });
    expect((await post(LINK_PATH, undefined, { Authorization: 'Bearer not-a-jwt' })).body).toEqual(refusalBody(5032, 'Token verification failed'));
  });

  describe('GET /_local/outbox', () => {
    // Two messages to one number (the cooldown is off in this suite).
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const sent = await post(`${SEND_PATH}?${sendQuery(OTHER_PHONE)}`);
        if (sent.body.code !== 200) throw new Error(`send refused: ${JSON.stringify(sent.body)}`);
      }
    });

    it.each([
      ['an unencoded + (arrives as a space)', '+8613900139000'],
      ['%2B', '%2B8613900139000'],
      ['an encoded space', '%208613900139000'],
      ['separators, as the API takes them', '%2B86%20139-0013-9000'],
      ['a national number and internationalCode', '13900139000&internationalCode=86'],
      ['a national number and internationalCode +86', '139%200013%209000&internationalCode=%2B86'],
    ])('finds the messages with %s, oldest first', async (_case, phone) => {
      const answer = await get(`/_local/outbox?phone=${phone}`);
      expect(answer.status).toBe(200);
      const messages = answer.body.messages as { to: string; sentAt: string; messageId: string }[];
      expect(messages.map((message) => message.to)).toEqual(['+8613900139000', '+8613900139000']);
      expect(messages[0]!.sentAt <= messages[1]!.sentAt).toBe(true);
      // Each with an id of its own, as a provider gives: what a conversion would be reported by.
      expect(new Set(messages.map((message) => message.messageId)).size).toBe(2);
    });

    it('answers an empty list for a number nothing was sent to', async () => {
      expect(await get('/_local/outbox?phone=%2B447911123456')).toMatchObject({ status: 200, body: { messages: [] } });
    });

    const OUTBOX_FORMS =
      'phone: an international number such as +8613800138000 (%2B8613800138000 in a URL), or a national number with its internationalCode: phone=13800138000&internationalCode=86';

    it.each([
      ['no phone', '/_local/outbox', 'phone'],
      ['an empty phone', '/_local/outbox?phone=', 'phone'],
      ['a phone that is no number', '/_local/outbox?phone=abc', 'phone'],
      // No country: the send, whose SMS these are, needs internationalCode beside a national number.
      ['a national number alone', '/_local/outbox?phone=13900139000', 'phone'],
      ['an international number without its +', '/_local/outbox?phone=8613900139000', 'phone'],
      ['a national number of another country than internationalCode', '/_local/outbox?phone=%2B8613900139000&internationalCode=44', 'phone'],
      ['an internationalCode that is none', '/_local/outbox?phone=13900139000&internationalCode=abc', 'internationalCode'],
    ])('answers 400 for %s, saying which forms it takes', async (_case, path, name) => {
      expect(await get(path)).toMatchObject({ status: 400, body: { ...refusalBody(400, `Invalid parameter: ${name}`), extMsg: OUTBOX_FORMS } });
    });
  });

  it.each([
    ['an unknown path', 'GET', '/nope'],
    ['a known path with another method', 'GET', SEND_PATH],
    ['a known path with a trailing slash', 'GET', `${USER_INFO_PATH}/`],
    ['unlink with POST', 'POST', UNLINK_PATH],
    ['a local route with another method', 'GET', '/_local/users'],
    ['the deployment stage prefix', 'GET', `/prod${USER_INFO_PATH}`],
  ])('answers 404 with the envelope for %s', async (_case, method, path) => {
    expect(await call(base, method, path)).toEqual({ status: 404, contentType: 'application/json; charset=utf-8', body: refusalBody(404, 'Not found') });
  });

  it('answers 413 for a body over 64 KiB and keeps serving', async () => {
    expect(await post('/_local/users', JSON.stringify({ uid: 'x'.repeat(70_000) }))).toMatchObject({
      status: 413,
      body: refusalBody(413, 'Request body too large'),
    });
    expect((await get('/_local/health')).status).toBe(200);
  });
});

describe('local server: the caller reaches the handler as sourceIp', () => {
  let started: StartedServer;

  beforeAll(async () => {
    started = await start({ SMS_MAX_PER_IP_PER_HOUR: '1' });
  });
  afterAll(() => started.server.close());

  it('counts sends per source IP (127.0.0.1), across phones', async () => {
    const base = started.server.url;
    expect((await call(base, 'POST', `${SEND_PATH}?${sendQuery(PHONE)}`)).body).toMatchObject({ code: 200 });
    expect((await call(base, 'POST', `${SEND_PATH}?${sendQuery(OTHER_PHONE)}`)).body).toEqual(refusalBody(5058, 'SMS sending exceeds frequency limit'));

    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    try {
      const { Items = [] } = await db.send(new ScanCommand({ TableName: started.tables.codesTableName }));
      const ipCounters = Items.map((item) => String(item.pk)).filter((pk) => pk.startsWith('COUNT#IP#'));
      expect(ipCounters).toEqual([expect.stringMatching(/^COUNT#IP#127\.0\.0\.1#/)]);
    } finally {
      db.destroy();
    }
  });
});

describe('local server: a flood aimed at one country', () => {
  let started: StartedServer;

  beforeAll(async () => {
    // Every request comes from 127.0.0.1: the per-IP cap is raised so that the country's breaker is what refuses.
    started = await start({ SMS_MAX_PER_IP_PER_HOUR: '1000' });
  });
  afterAll(() => started.server.close());

  it('105 sends to German mobiles within a minute: 100 codes and 5 refusals, while a French number is still served', async () => {
    // The breaker counts per UTC minute: start early in one, so that the 106 requests share it.
    const leftInMinute = 60_000 - (Date.now() % 60_000);
    if (leftInMinute < 20_000) await new Promise((resolve) => setTimeout(resolve, leftInMinute + 50));
    const base = started.server.url;
    const codes: number[] = [];
    for (let i = 0; i < 105; i++) {
      const answer = await call(base, 'POST', `${SEND_PATH}?${sendQuery(`15223${String(i).padStart(6, '0')}`, '3', '49')}`);
      codes.push(Number(answer.body.code));
    }
    expect(codes.slice(0, 100).every((code) => code === 200)).toBe(true);
    expect(codes.slice(100)).toEqual([5058, 5058, 5058, 5058, 5058]);
    expect(started.app.outbox.messagesTo('+4915223000099')).toHaveLength(1);
    expect(started.app.outbox.messagesTo('+4915223000100')).toEqual([]);
    expect((await call(base, 'POST', `${SEND_PATH}?${sendQuery('612345678', '3', '33')}`)).body).toMatchObject({ code: 200 });
    expect(started.app.outbox.messagesTo('+33612345678')).toHaveLength(1);
  });
});

describe('local server: the event it builds', () => {
  const events: APIGatewayProxyEventV2[] = [];
  let server: LocalServer;
  let releaseUserInfo: () => void = () => undefined;
  const stub: LocalServerApp = {
    tokenKeys: { source: 'local' },
    handlers: {
      sendPhoneSmsCode: async (event) => {
        events.push(event);
        return { statusCode: 201, headers: { 'x-handler': 'send', 'content-type': 'text/plain' }, body: 'made' };
      },
      relationPhone: async () => {
        throw new Error('handler blew up');
      },
      deletePhoneRelation: async () => ({ statusCode: 200, body: '{}' }),
      // Answers once the test lets it: the client can go away while it runs.
      userInfo: () => new Promise((resolve) => (releaseUserInfo = () => resolve({ statusCode: 200, body: '{}' }))),
      admin: async (event) => {
        events.push(event);
        return { statusCode: 200, body: '{}' };
      },
    },
    users: {
      register: async (): Promise<never> => {
        throw new Error('table gone: arn:aws:dynamodb:secret');
      },
    },
    outbox: { messagesTo: () => [] },
    tokenIssuer: { signAccessToken: async () => 'token' },
  };

  beforeAll(async () => {
    server = await startLocalServer({ app: stub, port: 0 });
  });
  afterAll(() => server.close());

  it('hands the handler an HTTP API 2.0 event with the caller, query and headers, and writes its result back', async () => {
    const response = await fetch(`${server.url}${SEND_PATH}?phone=+86%20138&a=1&a=2`, {
      method: 'POST',
      headers: { 'X-Custom': 'Value', authorization: 'Bearer t' },
      body: 'raw body',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-handler')).toBe('send');
    expect(await response.text()).toBe('made');

    const [event] = events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: `POST ${SEND_PATH}`,
      rawPath: SEND_PATH,
      rawQueryString: 'phone=+86%20138&a=1&a=2',
      queryStringParameters: { phone: ' 86 138', a: '1,2' },
      headers: { 'x-custom': 'Value', authorization: 'Bearer t' },
      body: 'raw body',
      requestContext: { http: { method: 'POST', path: SEND_PATH, sourceIp: '127.0.0.1' } },
    });
  });

  it('answers 500 with the bare envelope when a route fails, and keeps serving', async () => {
    const fault = { code: 500, msg: 'Internal server error', extMsg: '', data: null };
    expect(await call(server.url, 'POST', '/_local/users')).toMatchObject({ status: 500, body: fault });
    expect(await call(server.url, 'POST', LINK_PATH)).toMatchObject({ status: 500, body: fault });
    expect((await call(server.url, 'GET', '/_local/health')).status).toBe(200);
  });

  it('logs a client that goes away while its handler runs as a disconnect, not a fault', async () => {
    const from = capturedLogLines().length;
    const gone = rawExchange(server.port, `GET ${USER_INFO_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, (socket) => setTimeout(() => socket.destroy(), 100));
    expect(await gone).toBe('closed without an answer');
    releaseUserInfo();
    await logLineAfter(from, ['Client disconnected', 'Local server fault']);

    expect(logMessagesSince(from)).toEqual([expect.objectContaining({ level: 'DEBUG', message: 'Client disconnected' })]);
    expect((await call(server.url, 'GET', '/_local/health')).status).toBe(200);
  });

  it('says plainly when its port is taken', async () => {
    await expect(startLocalServer({ app: stub, port: server.port })).rejects.toThrow(`Port ${server.port} on 127.0.0.1 is already in use`);
  });
});

describe('local server: an edge for what reaches it', () => {
  let started: StartedServer;
  let port: number;

  beforeAll(async () => {
    // Short timeouts, so that a slow client is closed while the test waits.
    started = await start({}, { headersMs: 300, requestMs: 600, keepAliveMs: 300 });
    port = started.server.port;
  });
  afterAll(() => started.server.close());

  it('answers a header section over 16 KiB with 431 and the envelope', async () => {
    const answer = await rawExchange(port, `GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(enveloped(answer)).toEqual(jsonEnvelope(431, 'Request header fields too large'));
  });

  it.each([
    ['a request line that is no request line', 'GARBAGE\r\n\r\n'],
    ['a method with a space', 'GE T /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ['a chunk size that is not hex', `POST ${SEND_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nphone=1\r\n0\r\n\r\n`],
    ['a chunk longer than its size', `POST ${SEND_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nphone=1\r\n0\r\n\r\n`],
    ['an HTTP/1.1 request without a Host', 'GET /_local/health HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['two Host headers', 'GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'],
  ])('answers %s with 400 and the envelope', async (_case, request) => {
    expect(enveloped(await rawExchange(port, request))).toEqual(jsonEnvelope(400, 'Bad request'));
  });

  it('answers a malformed request after a good one on the same kept-alive connection with 400 and the envelope', async () => {
    const answer = await rawExchange(port, 'GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', (socket) =>
      // The first answer is in: the connection is idle, kept alive, when the malformed request comes.
      socket.once('data', () => socket.write('GARBAGE\r\n\r\n')),
    );
    expect(answer).toMatchObject({ status: 200 });
    const [, second = ''] = (answer as RawAnswer).body.split('{"status":"ok"}');
    expect(second).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual(refusalBody(400, 'Bad request'));
  });

  it.each([
    ['a request line that is no request line', 'GARBAGE\r\n\r\n'],
    ['a chunk size that is not hex', `POST ${SEND_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nphone=1\r\n0\r\n\r\n`],
  ])('answers the requests pipelined ahead of a malformed one (%s) in order, then the 400, then closes', async (_case, malformed) => {
    const uid = `pipelined-${randomUUID()}`;
    const register = `{"uid":"${uid}"}`;
    const pipelined =
      `POST /_local/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${register.length}\r\n\r\n${register}` +
      'GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' +
      malformed;

    const answers = await rawAnswers(port, pipelined);

    expect(answers.map(({ status, body }) => ({ status, body: JSON.parse(body) as unknown }))).toEqual([
      { status: 200, body: { uid, accessToken: expect.any(String) } },
      { status: 200, body: { status: 'ok' } },
      { status: 400, body: refusalBody(400, 'Bad request') },
    ]);
    expect(answers.at(-1)?.headers.connection).toBe('close');
    // The first request was applied, and its answer said so.
    expect((await call(started.server.url, 'GET', adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: true } });
  });

  it('answers a request refused before its malformed body is read once: the refusal, then the close, no 400 after it', async () => {
    const refusedWithBrokenBody = `POST ${SEND_PATH} HTTP/1.1\r\nHost: evil.example\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nphone=1\r\n0\r\n\r\n`;
    const answers = await rawAnswers(port, refusedWithBrokenBody);
    expect(answers.map(({ status, body }) => ({ status, body: JSON.parse(body) as unknown }))).toEqual([{ status: 403, body: refusalBody(403, 'Forbidden') }]);
  });

  it('answers an unknown expectation with 417 and the envelope', async () => {
    const answer = await rawExchange(port, 'GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: tea\r\nConnection: close\r\n\r\n');
    expect(enveloped(answer)).toEqual(jsonEnvelope(417, 'Expectation failed'));
  });

  it.each([
    ['a contract route', 'GET', USER_INFO_PATH, ''],
    ['an admin route', 'PUT', pathTo(ROUTES.adminLinkPhone, { uid: 'rebound-admin' }), '{"phone":"13900139555","internationalCode":"86"}'],
    ['/_local/users', 'POST', '/_local/users', '{"uid":"rebound-local"}'],
    ['/_local/tokens', 'POST', '/_local/tokens', ''],
    ['an unknown path', 'GET', '/nope', ''],
    ['CONNECT', 'CONNECT', '127.0.0.1:443', ''],
  ])('refuses a Host that is no loopback name with 403 and the envelope: %s', async (_case, method, path, body) => {
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', 'localhost.evil.example', '127.0.0.2', '[::2]']) {
      const request = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
      expect(enveloped(await rawExchange(port, request))).toEqual(jsonEnvelope(403, 'Forbidden'));
    }
    // Nothing was written: neither user exists.
    for (const uid of ['rebound-admin', 'rebound-local']) {
      expect((await call(started.server.url, 'GET', adminUser(uid))).body).toMatchObject({ code: 200, data: { exists: false } });
    }
  });

  it.each(['localhost:PORT', 'localhost', 'LOCALHOST', '127.0.0.1', '127.0.0.1:PORT', '[::1]', '[::1]:PORT'])('accepts the loopback Host %s', async (host) => {
    const answer = await rawExchange(port, `GET /_local/health HTTP/1.1\r\nHost: ${host.replace('PORT', String(port))}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });

  it('accepts an HTTP/1.0 request without a Host: browsers always send one, so it cannot be a rebinding page', async () => {
    expect(await rawExchange(port, 'GET /_local/health HTTP/1.0\r\n\r\n')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });

  it('closes a connection that never finishes its headers, with 408 and the envelope', async () => {
    const answer = await rawExchange(port, 'GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(enveloped(answer)).toEqual(jsonEnvelope(408, 'Request timeout'));
  });

  it('closes a connection that never finishes its body, with 408 and the envelope', async () => {
    const answer = await rawExchange(port, `POST ${SEND_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nphone=1`);
    expect(enveloped(answer)).toEqual(jsonEnvelope(408, 'Request timeout'));
  });

  it('closes a connection that never sends a byte, with 408 and the envelope', async () => {
    expect(enveloped(await rawExchange(port, ''))).toEqual(jsonEnvelope(408, 'Request timeout'));
  });

  it.each([
    ['closes its side (FIN)', (socket: ReturnType<typeof connect>) => socket.destroy()],
    ['resets the connection (RST)', (socket: ReturnType<typeof connect>) => socket.resetAndDestroy()],
  ])('logs a client that %s mid-body as a disconnect, never as a server fault', async (_case, leave) => {
    // A request through a handler first: the functions' logger then holds that request's id.
    expect((await call(started.server.url, 'GET', USER_INFO_PATH)).body).toMatchObject({ code: 5106 });
    const from = capturedLogLines().length;
    await rawExchange(port, `POST ${SEND_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nphone=1`, (socket) => setTimeout(() => leave(socket), 50));
    await logLineAfter(from, ['Client disconnected', 'Local server fault']);

    const lines = logMessagesSince(from);
    expect(lines.filter((line) => line.message === 'Local server fault')).toEqual([]);
    const disconnects = lines.filter((line) => line.message === 'Client disconnected');
    expect(disconnects).toContainEqual(expect.objectContaining({ level: 'DEBUG' }));
    // Not under the function and request id of whichever request the functions' logger served last.
    for (const line of disconnects) expect(Object.keys(line)).not.toEqual(expect.arrayContaining(['function_request_id']));
    expect((await call(started.server.url, 'GET', '/_local/health')).status).toBe(200);
  });
});

describe('local server: tokens from a login service key set (JWKS_URL)', () => {
  const ISSUER = 'https://login.test';
  let keySet: Server;
  let started: StartedServer;
  let signToken: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'login-key-1', alg: 'RS256', use: 'sig' };
    signToken = (claims) =>
      new SignJWT({ type: 'AccessToken', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'login-key-1' })
        .setExpirationTime('1h')
        .sign(privateKey);
    keySet = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => keySet.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(keySet.address() as AddressInfo).port}/.well-known/jwks.json`;
    started = await start({ JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER });
  });
  afterAll(async () => {
    await started.server.close();
    await new Promise((resolve) => keySet.close(resolve));
  });

  it('verifies a token of that key set and issuer for userInfo', async () => {
    const uid = `login-${randomUUID()}`;
    const token = await signToken({ uid, iss: ISSUER });

    const answer = await call(started.server.url, 'GET', USER_INFO_PATH, { headers: { Authorization: `Bearer ${token}` } });
    expect(answer).toMatchObject({ status: 200, body: { code: 200, data: { uid, phone: null } } });
  });

  it('refuses a token of that key set from another issuer', async () => {
    const token = await signToken({ uid: `login-${randomUUID()}`, iss: 'https://other.test' });

    const answer = await call(started.server.url, 'GET', USER_INFO_PATH, { headers: { Authorization: `Bearer ${token}` } });
    expect(answer.body).toEqual(refusalBody(5032, 'Token verification failed'));
  });

  it.each(['/_local/users', '/_local/tokens'])('does not serve POST %s: tokens come from the login service', async (path) => {
    expect(await call(started.server.url, 'POST', path, { body: '{"uid":"would-be-minted"}' })).toEqual({
      status: 404,
      contentType: 'application/json; charset=utf-8',
      body: refusalBody(404, 'Not found'),
    });
    expect(started.app.tokenKeys).toMatchObject({ source: 'jwks', issuer: ISSUER });
  });

  it.each([
    ['http to another host', 'http://login.example.com/.well-known/jwks.json'],
    ['http to a LAN address', 'http://192.168.1.10/jwks.json'],
    ['a loopback look-alike', 'http://127.0.0.1.evil.example/jwks.json'],
    ['another scheme', 'file:///etc/jwks.json'],
    ['no URL', 'login.example.com'],
  ])('refuses JWKS_URL with %s at start', async (_case, jwksUrl) => {
    // A server that did start is closed at once, so a failing case cannot keep jest from exiting.
    const outcome = await start({ JWKS_URL: jwksUrl }).then(
      async (other) => other.server.close().then(() => 'started'),
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/^JWKS_URL must be an https URL, or http to 127\.0\.0\.1, localhost or \[::1\]; got "/);
  });

  it.each(['https://login.example.com/.well-known/jwks.json', 'http://localhost:9/jwks.json', 'http://[::1]:9/jwks.json'])('accepts JWKS_URL %s', async (jwksUrl) => {
    const other = await start({ JWKS_URL: jwksUrl });
    await other.server.close();
    expect(other.app.tokenKeys).toEqual({ source: 'jwks', jwksUrl: new URL(jwksUrl).href, issuer: undefined });
  });
});
