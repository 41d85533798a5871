import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { multiRegionUsersTable, usersTable } from '../../functions/adapters/dynamodb/table-definitions';
import type { ClientSettings } from '../../functions/adapters/aws/client-config';
import type { Clock } from '../../functions/clock';
import type { PhoneLinksMode } from '../../functions/tunables';
import type { HttpResult } from '../../functions/http/envelope';
import { createLocalApp, type HttpHandler } from '../../local/app';
import { ROUTES, pathTo } from '../../functions/http/routes';
import { lambdaContext, routedEvent, toApiGatewayEvent } from '../../local/api-gateway-event';
import { createTables } from '../../local/dynamodb-local';
import { nonce, signatureOf } from './app-client';
import { neverLog } from './log-hygiene';

export const USER_DOMAIN = 'test.phonelink';
export const USER_DOMAIN_SECRET = 'test-domain-secret';
export const PHONE = '13800138000';
export const PHONE_E164 = '+8613800138000';

const HOUR = 3_600_000;

/**
 * A clock the test moves by hand. It starts at the next full hour of real
 * time: DynamoDB Local's TTL sweeper really deletes items whose `ttl` has
 * passed, so test time must not lag behind the wall clock.
 */
export class TestClock implements Clock {
  constructor(private current = Math.ceil(Date.now() / HOUR) * HOUR) {}
  now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface Envelope {
  code: number;
  msg: string;
  extMsg: string;
  data: Record<string, unknown> | null;
}

export interface Answer extends Envelope {
  status: number;
}

type Query = Record<string, string | undefined>;

/** A request body as the client sends it: its text (base64 when the event says so) and its content type. */
export interface RequestBody {
  readonly text: string;
  readonly contentType?: string;
  /** API Gateway hands some bodies over base64-encoded (HTTP APIs do so for forms). */
  readonly isBase64Encoded?: boolean;
}

const definedEntries = (params: Query): [string, string][] =>
  Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);

/** Parameters as an `application/x-www-form-urlencoded` body. */
export const formBody = (params: Query, contentType = 'application/x-www-form-urlencoded'): RequestBody => {
  neverLog(params.phone?.replace(/\D/g, ''));
  return { text: new URLSearchParams(definedEntries(params)).toString(), contentType };
};

/** The same body base64-encoded, flagged as API Gateway flags it. */
export const base64Body = (body: RequestBody): RequestBody => ({ ...body, text: Buffer.from(body.text, 'utf8').toString('base64'), isBase64Encoded: true });

/** Any value as a JSON body (parameters, or something that is not an object). */
export const jsonBody = (value: unknown, contentType = 'application/json'): RequestBody => {
  const phone = (value as { phone?: unknown } | null)?.phone;
  if (typeof phone === 'string') neverLog(phone.replace(/\D/g, ''));
  return { text: JSON.stringify(value), contentType };
};

/** A request the harness made and the handler's raw result (status, headers, body), for `onAnswer`. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly result: HttpResult;
}

const queryString = (query: Query): string => new URLSearchParams(definedEntries(query)).toString();

/**
 * The real handlers, wired as locally, on fresh tables of the shared DynamoDB
 * Local, with a clock the test controls. Calls go through API Gateway-shaped
 * events exactly as the cloud delivers them.
 */
export async function createHarness(
  options: {
    env?: Record<string, string>;
    onAnswer?: (exchange: Exchange) => void;
    /** 'ordered-writes': OrderedPhoneLinks, over a users table shaped as the multi-Region one (no TTL, the due index). */
    phoneLinks?: PhoneLinksMode;
    /** The DynamoDB client's settings; the cloud's unless a suite's bursts need DynamoDB Local's slack. */
    dynamoDbSettings?: ClientSettings;
    /** What the Lambda context says the function has left as each request starts: a whole timeout unless a test shortens the budget. */
    remainingTimeMs?: number;
  } = {},
) {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through the integration project');
  const suffix = randomUUID().slice(0, 8);
  const tables = { codesTableName: `codes-${suffix}`, usersTableName: `users-${suffix}` };
  const phoneLinks = options.phoneLinks ?? 'transactions';
  await createTables(endpoint, tables, phoneLinks === 'ordered-writes' ? multiRegionUsersTable : usersTable);
  const clock = new TestClock();
  const app = await createLocalApp({
    endpoint,
    userDomain: USER_DOMAIN,
    userDomainSecret: USER_DOMAIN_SECRET,
    clock,
    dynamoDbSettings: options.dynamoDbSettings,
    env: {
      CODES_TABLE_NAME: tables.codesTableName,
      USERS_TABLE_NAME: tables.usersTableName,
      CODE_PEPPER: 'test-pepper',
      PHONE_LINKS_MODE: phoneLinks,
      ...options.env,
    },
  });
  neverLog(USER_DOMAIN_SECRET);
  neverLog('test-pepper');
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );

  const invoke = async (
    handler: HttpHandler,
    method: string,
    path: string,
    query: Query,
    headers: Record<string, string> = {},
    sourceIp = '203.0.113.7',
    body?: RequestBody,
  ): Promise<Answer> => {
    const withContentType = body?.contentType === undefined ? headers : { ...headers, 'Content-Type': body.contentType };
    const event = {
      ...toApiGatewayEvent({ method, path, rawQueryString: queryString(query), headers: withContentType, sourceIp, body: body?.text }),
      isBase64Encoded: body?.isBase64Encoded ?? false,
    };
    const result = await handler(event, contextFor(path));
    options.onAnswer?.({ method, path, result });
    return { status: result.statusCode, ...(JSON.parse(result.body) as Envelope) };
  };
  const contextFor = (functionName: string) =>
    options.remainingTimeMs === undefined ? lambdaContext(functionName) : { ...lambdaContext(functionName), getRemainingTimeInMillis: () => options.remainingTimeMs! };
  const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { Authorization: `Bearer ${token}` });

  const harness = {
    app,
    phoneLinks,
    clock,
    tables,
    db,

    /** Signed send parameters, with any of them overridden or removed (undefined). */
    sendQuery(overrides: Query = {}): Query {
      const base = { phone: PHONE, internationalCode: '86', codeType: '3', userDomain: USER_DOMAIN, random: nonce(), ts: String(clock.now()) };
      const query: Query = { ...base, ...overrides };
      return 'signature' in overrides ? query : { ...query, signature: signatureOf(query, USER_DOMAIN_SECRET) };
    },

    send(overrides: Query = {}, sourceIp?: string): Promise<Answer> {
      return harness.sendRaw(harness.sendQuery(overrides), sourceIp);
    },

    sendRaw(query: Query, sourceIp?: string, body?: RequestBody, headers: Record<string, string> = {}): Promise<Answer> {
      neverLog(query.phone?.replace(/\D/g, ''));
      return invoke(app.handlers.sendPhoneSmsCode, ROUTES.sendPhoneSmsCode.method, ROUTES.sendPhoneSmsCode.path, query, headers, sourceIp, body);
    },

    link(token: string | undefined, query: Query, headers: Record<string, string> = {}, body?: RequestBody): Promise<Answer> {
      neverLog(query.phone?.replace(/\D/g, ''));
      return invoke(app.handlers.relationPhone, ROUTES.relationPhone.method, ROUTES.relationPhone.path, query, { ...bearer(token), ...headers }, undefined, body);
    },

    unlink(token: string | undefined, query: Query, headers: Record<string, string> = {}, body?: RequestBody): Promise<Answer> {
      return invoke(app.handlers.deletePhoneRelation, ROUTES.deletePhoneRelation.method, ROUTES.deletePhoneRelation.path, query, { ...bearer(token), ...headers }, undefined, body);
    },

    userInfo(token: string | undefined, headers: Record<string, string> = {}, body?: RequestBody): Promise<Answer> {
      return invoke(app.handlers.userInfo, ROUTES.userInfo.method, ROUTES.userInfo.path, {}, { ...bearer(token), ...headers }, undefined, body);
    },

    /**
     * An admin route, as API Gateway hands it over after IAM authorization:
     * `admin('PUT', uid, '/phone', jsonBody({...}))`. The uid goes into the
     * path percent-encoded, as a client sends it.
     */
    admin(method: 'GET' | 'PUT' | 'DELETE', uid: string, suffix: '' | '/phone' = '', body?: RequestBody): Promise<Answer> {
      const headers = body?.contentType === undefined ? {} : { 'Content-Type': body.contentType };
      const path = pathTo(suffix === '/phone' ? ROUTES.adminLinkPhone : ROUTES.adminGetUser, { uid });
      const routed = routedEvent({ method, path, rawQueryString: '', headers, sourceIp: '203.0.113.9', body: body?.text });
      if (routed === undefined) throw new Error(`No admin route ${method} ${path}`);
      const { event } = routed;
      return app.handlers.admin(event, contextFor('admin')).then((result) => {
        options.onAnswer?.({ method, path: event.rawPath, result });
        return { status: result.statusCode, ...(JSON.parse(result.body) as Envelope) };
      });
    },

    /** A user erased through the admin interface, with a token still valid for its uid. */
    async erasedUser(): Promise<{ uid: string; token: string }> {
      const user = await harness.newUser();
      const answer = await harness.admin('DELETE', user.uid);
      if (answer.code !== 200) throw new Error(`erasure failed: ${JSON.stringify(answer)}`);
      return user;
    },

    /** A user in the users table and an access token for it. */
    async newUser(uid: string = randomUUID()): Promise<{ uid: string; token: string }> {
      await app.users.register(uid, Date.now());
      return { uid, token: await harness.tokenWithoutUser(uid) };
    },

    /** A token for a uid that has no user item: a user known on first use (or unknown where users are registered). */
    async tokenWithoutUser(uid: string = randomUUID()): Promise<string> {
      const token = await app.tokenIssuer.signAccessToken(uid);
      neverLog(token);
      return token;
    },

    /** The code in the latest SMS to a phone. */
    latestCode(e164: string = PHONE_E164): string {
      const messages = app.outbox.messagesTo(e164);
      const text = messages[messages.length - 1]?.text ?? '';
      const code = /\d{6}/.exec(text)?.[0];
      if (!code) throw new Error(`no code was sent to ${e164}`);
      neverLog(code);
      return code;
    },

    /** Sends a code (codeType 3, the SDK's for linking, unless said) to a phone and returns it. */
    async codeFor(phone = PHONE, internationalCode = '86', codeType = '3'): Promise<string> {
      const answer = await harness.send({ phone, internationalCode, codeType });
      if (answer.code !== 200) throw new Error(`send failed: ${JSON.stringify(answer)}`);
      return harness.latestCode(`+${internationalCode}${phone}`);
    },

    /** Every item of both tables, for before/after comparisons and invariants. */
    async snapshot(): Promise<{ codes: Record<string, unknown>[]; users: Record<string, unknown>[] }> {
      const scan = async (TableName: string) => {
        const { Items = [] } = await db.send(new ScanCommand({ TableName, ConsistentRead: true }));
        return Items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
      };
      return { codes: await scan(tables.codesTableName), users: await scan(tables.usersTableName) };
    },

    close(): void {
      db.destroy();
    },
  };
  return harness;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

