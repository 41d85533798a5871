import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { parse } from 'yaml';
import { readCodeSettings, readSendLimits, readSignatureSettings, signatureRules } from '../../functions/config';
import { LAST_CALL_MS, RESPONSE_MARGIN_MS } from '../../functions/request-budget';
import { matchRoute, pathTo, ROUTE_NAMES, ROUTES, routeKey, type Authorization, type RouteName } from '../../functions/http/routes';
import {
  createAdminHandler,
  createDeletePhoneRelationHandler,
  createRelationPhoneHandler,
  createSendPhoneSmsCodeHandler,
  createUserInfoHandler,
  ready,
} from '../../functions/http/handlers';
import { lambdaContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { HttpHandler } from '../../local/app';
import type { LocalServer } from '../../local/server';
import { signedSendQuery } from '../support/app-client';
import {
  createHarness,
  formBody,
  jsonBody,
  PHONE,
  USER_DOMAIN,
  USER_DOMAIN_SECRET,
  type Exchange,
  type Harness,
  type RequestBody,
} from '../support/harness';
import { injectDynamoFault } from '../support/faults';
import { startServerOnFreshTables } from '../support/local-server';
import { OpenApiContract, type HttpResponse } from '../support/openapi-contract';

// docs/openapi.yaml against the service: real responses (status, content
// type, body) of every code of every endpoint, the admin interface's
// included, through the handlers and through the local server, must match
// the document, and responses that leave it must fail. The document itself
// must be valid OpenAPI 3.1.

const SEND_PATH = ROUTES.sendPhoneSmsCode.path;
const LINK_PATH = ROUTES.relationPhone.path;
const USER_INFO_PATH = ROUTES.userInfo.path;
const UNLINK_PATH = ROUTES.deletePhoneRelation.path;
const ZH = { 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.8' };
const ZH_APP = { 'X-Q-Language': 'zh_CN' };
/** A body that cannot be read as the JSON it declares. */
const UNREADABLE_JSON = { text: '{"phone": ', contentType: 'application/json' };

/** Each route is the operation of docs/openapi.yaml with its name as operationId. */
type OperationId = RouteName;

/** The codes of each endpoint as API.md lists them (plus the HTTP 500 fault). */
const CONTRACT_CODES: Record<OperationId, number[]> = {
  sendPhoneSmsCode: [200, 400, 500, 5019, 5021, 5023, 5058, 5059, 5116, 5420, 5550],
  relationPhone: [200, 400, 500, 5002, 5019, 5021, 5032, 5033, 5037, 5058, 5064, 5106],
  userInfo: [200, 400, 500, 5032, 5033, 5106],
  deletePhoneRelation: [200, 400, 500, 5032, 5033, 5037, 5058, 5064, 5106, 5384],
  adminGetUser: [200, 400, 500],
  adminRegisterUser: [200, 400, 500],
  adminLinkPhone: [200, 400, 500, 5002, 5019, 5021, 5033, 5058],
  adminEraseUser: [200, 400, 500, 5058],
};

type AdminMethod = 'GET' | 'PUT' | 'DELETE';
type AdminSuffix = '' | '/phone';

const fromExchange = ({ method, path, result }: Exchange): HttpResponse => ({
  method,
  path,
  status: result.statusCode,
  contentType: result.headers?.['content-type'] === undefined ? undefined : String(result.headers['content-type']),
  body: result.body,
});

const contract = new OpenApiContract();
const documentText = contract.text;

// ---------------------------------------------------------------------------

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document (the official schema)', () => {
    expect(contract.document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(OpenApiContract.validateDocument()).toEqual({ valid: true });
  });

  it('has an operation for each route the API serves (functions/http/routes.ts), by its name, and nothing local', () => {
    expect(contract.operations.map((operation) => `${operation.method} ${operation.path} ${operation.operationId}`).sort()).toEqual(
      ROUTE_NAMES.map((name) => `${ROUTES[name].method} ${ROUTES[name].path} ${name}`).sort(),
    );
  });

  it.each(Object.entries(CONTRACT_CODES))('lists exactly the codes API.md gives %s', (operationId, codes) => {
    expect(contract.codes(operationId)).toEqual(codes);
  });

  it('takes the bearer token on the contract routes but the signed sendPhoneSmsCode, and SigV4 on the admin routes', () => {
    const security = Object.fromEntries(contract.operations.map((operation) => [operation.operationId, operation.security]));
    const schemeOf: Record<Authorization, unknown[]> = { 'app-signature': [], 'user-token': [{ bearerAuth: [] }], iam: [{ awsSigV4: [] }] };
    expect(security).toEqual(Object.fromEntries(ROUTE_NAMES.map((name) => [name, schemeOf[ROUTES[name].authorization]])));
    expect(contract.resolve('/components/securitySchemes/bearerAuth').node).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(contract.resolve('/components/securitySchemes/awsSigV4').node).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
  });

  it("documents API Gateway's own 403 on the admin routes, and on no contract route", () => {
    const with403 = contract.operations.filter((operation) => '403' in operation.responses).map((operation) => operation.operationId);
    expect(with403.sort()).toEqual(['adminEraseUser', 'adminGetUser', 'adminLinkPhone', 'adminRegisterUser']);
  });

  it('has examples that match their own schemas', () => {
    const checked: string[] = [];
    for (const operation of contract.operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [contentType, media] of Object.entries(response.content)) {
          for (const name of Object.keys((media.examples ?? {}) as object)) {
            const example = contract.resolve(`${response.pointer}/content/${contentType.replace('/', '~1')}/examples/${name}`).node;
            const found = contract.violations({ method: operation.method, path: operation.path, status: Number(status), contentType, body: JSON.stringify(example.value) });
            expect({ example: `${operation.operationId} ${status} ${name}`, found }).toEqual({ example: `${operation.operationId} ${status} ${name}`, found: [] });
            checked.push(name);
          }
        }
      }
    }
    expect(checked.length).toBeGreaterThan(30);
  });
});

// ---------------------------------------------------------------------------
// Every code of every endpoint, through the real handlers (the harness), each
// response checked against the document.

interface Scenario {
  readonly operation: OperationId;
  readonly code: number;
  readonly name: string;
  readonly zh?: boolean;
  readonly run: () => Promise<HttpResponse>;
}

describe('real responses match the document', () => {
  let h: Harness;
  const exchanges: Exchange[] = [];
  const last = (): HttpResponse => fromExchange(exchanges[exchanges.length - 1]!);
  /** Runs harness calls and answers the last response they got. */
  const lastOf =
    (calls: () => Promise<unknown>): (() => Promise<HttpResponse>) =>
    async () => {
      await calls();
      return last();
    };

  /** A handler built here (to force a fault), called like the harness does. */
  const direct = async (
    handler: unknown,
    method: string,
    path: string,
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
    extra: { routeKey?: string; pathParameters?: Record<string, string>; body?: string } = {},
  ) => {
    const event = toApiGatewayEvent({ method, path, rawQueryString: new URLSearchParams(query).toString(), headers, sourceIp: '192.0.2.10', ...extra });
    const result = await (handler as HttpHandler)(event, lambdaContext(path));
    exchanges.push({ method, path, result });
    return last();
  };
  /**
   * An admin route as API Gateway hands it over after IAM authorization, with
   * headers (which `h.admin` does not take) and any handler: the harness's own
   * by default.
   */
  const adminDirect = (
    method: AdminMethod,
    uid: string,
    suffix: AdminSuffix = '',
    body?: RequestBody,
    headers: Record<string, string> = {},
    handler: unknown = h.app.handlers.admin,
  ) => {
    const withContentType = body?.contentType === undefined ? headers : { ...headers, 'Content-Type': body.contentType };
    const path = pathTo(suffix === '/phone' ? ROUTES.adminLinkPhone : ROUTES.adminGetUser, { uid });
    const matched = matchRoute(method, path);
    if (matched === undefined) throw new Error(`No admin route ${method} ${path}`);
    return direct(handler, method, path, {}, withContentType, { routeKey: routeKey(ROUTES[matched.name]), pathParameters: matched.pathParameters, body: body?.text });
  };
  /** A uid the admin interface has linked a phone to. */
  const adminLinked = async (phone: string) => {
    const uid = `admin-${randomUUID()}`;
    const answer = await h.admin('PUT', uid, '/phone', jsonBody({ phone, internationalCode: '86' }));
    if (answer.code !== 200) throw new Error(`admin link failed: ${JSON.stringify(answer)}`);
    return uid;
  };
  /** Handlers where users must be registered first (USER_PROVISIONING=registered). */
  let registered: Harness;
  /** Handlers whose requests have a short budget: a turn not come soon answers 5058. */
  let hurried: Harness;
  /** `request`, while every transaction collides with another: the same user's other requests keep winning. */
  const withoutATurn = async (request: () => Promise<unknown>) => {
    const collisions = injectDynamoFault(hurried.app.db, { call: 1, untilCall: Infinity, operation: 'TransactWriteItems', kind: 'transactionCollision', mode: 'before', attempts: Infinity });
    await request().finally(() => collisions.remove());
  };
  /** A user of `hurried` with a phone linked. */
  const hurriedUser = async (phone: string) => {
    const user = await hurried.newUser();
    await hurried.link(user.token, { phone, code: await hurried.codeFor(phone) });
    return user;
  };
  const broken = () => Promise.reject(new Error('database gone: arn:aws:dynamodb:secret'));
  const signedIn = { verify: async () => ({ uid: 'u1' }) };
  const bearer = { authorization: 'Bearer any' };

  /** A user with a phone linked (through the real flow). */
  const linkedUser = async (phone: string) => {
    const user = await h.newUser();
    const answer = await h.link(user.token, { phone, code: await h.codeFor(phone) });
    if (answer.code !== 200) throw new Error(`link failed: ${JSON.stringify(answer)}`);
    h.clock.advance(61_000);
    return user;
  };

  const SCENARIOS: Scenario[] = [
    // sendPhoneSmsCode, in the order of its checks
    { operation: 'sendPhoneSmsCode', code: 5021, name: 'no phone', run: lastOf(() => h.send({ phone: undefined })) },
    { operation: 'sendPhoneSmsCode', code: 5116, name: 'no internationalCode', run: lastOf(() => h.send({ internationalCode: undefined })) },
    { operation: 'sendPhoneSmsCode', code: 5023, name: 'no userDomain', run: lastOf(() => h.send({ userDomain: undefined })) },
    { operation: 'sendPhoneSmsCode', code: 5550, name: 'no signature', run: lastOf(() => h.send({ signature: undefined })) },
    { operation: 'sendPhoneSmsCode', code: 400, name: 'codeType of another service', run: lastOf(() => h.send({ codeType: '1' })) },
    { operation: 'sendPhoneSmsCode', code: 400, name: 'a body that is not JSON', run: lastOf(() => h.sendRaw(h.sendQuery(), undefined, UNREADABLE_JSON)) },
    { operation: 'sendPhoneSmsCode', code: 400, name: 'a JSON array body, in Chinese', zh: true, run: lastOf(() => h.sendRaw({}, undefined, jsonBody([]), ZH_APP)) },
    { operation: 'sendPhoneSmsCode', code: 5019, name: 'a malformed phone', run: lastOf(() => h.send({ phone: '123' })) },
    { operation: 'sendPhoneSmsCode', code: 5420, name: 'a wrong signature', run: lastOf(() => h.send({ signature: 'f'.repeat(64) })) },
    {
      operation: 'sendPhoneSmsCode',
      code: 5058,
      name: 'a second code within the cooldown',
      run: lastOf(async () => {
        await h.send({ phone: '13300133000' });
        await h.send({ phone: '13300133000' });
      }),
    },
    {
      operation: 'sendPhoneSmsCode',
      code: 5059,
      name: 'the SMS provider fails',
      run: () => {
        const handler = createSendPhoneSmsCodeHandler(
          ready({
            issuer: h.app.issuer,
            sms: { send: () => Promise.reject(new Error('provider exploded')) },
            clock: h.clock,
            codeRules: { ...readCodeSettings({}), pepper: 'test-pepper' },
            sendLimits: readSendLimits({}),
            signatureRules: signatureRules(readSignatureSettings({}), JSON.stringify({ [USER_DOMAIN]: USER_DOMAIN_SECRET })),
          }),
        );
        return direct(handler, 'POST', SEND_PATH, h.sendQuery({ phone: '13600136000' }) as Record<string, string>);
      },
    },
    { operation: 'sendPhoneSmsCode', code: 200, name: 'a signed request', run: lastOf(() => h.send({ phone: '13500135000' })) },
    { operation: 'sendPhoneSmsCode', code: 200, name: 'a signed form body, in Chinese', zh: true, run: lastOf(() => h.sendRaw({}, undefined, formBody(h.sendQuery({ phone: '13500135001' })), ZH_APP)) },
    { operation: 'sendPhoneSmsCode', code: 500, name: 'a database fault', run: () => direct(createSendPhoneSmsCodeHandler(broken), 'POST', SEND_PATH, h.sendQuery() as Record<string, string>) },

    // relationPhone
    { operation: 'relationPhone', code: 5106, name: 'no token', run: lastOf(() => h.link(undefined, { phone: PHONE, code: '123456' })) },
    { operation: 'relationPhone', code: 5032, name: 'a token that does not verify', run: lastOf(() => h.link('not-a-jwt', { phone: PHONE, code: '123456' })) },
    { operation: 'relationPhone', code: 400, name: 'a body that is not JSON', run: lastOf(async () => h.link((await h.newUser()).token, {}, {}, UNREADABLE_JSON)) },
    { operation: 'relationPhone', code: 400, name: 'a repeated form field, in Chinese', zh: true, run: lastOf(async () => h.link((await h.newUser()).token, {}, ZH_APP, { text: 'code=1&code=2', contentType: 'application/x-www-form-urlencoded' })) },
    { operation: 'relationPhone', code: 5021, name: 'no phone', run: lastOf(async () => h.link((await h.newUser()).token, { code: '123456' })) },
    { operation: 'relationPhone', code: 5064, name: 'no code', run: lastOf(async () => h.link((await h.newUser()).token, { phone: PHONE })) },
    { operation: 'relationPhone', code: 5019, name: 'a malformed phone', run: lastOf(async () => h.link((await h.newUser()).token, { phone: '123', code: '123456' })) },
    { operation: 'relationPhone', code: 5033, name: 'a token for an erased user', run: lastOf(async () => h.link((await h.erasedUser()).token, { phone: PHONE, code: '123456' })) },
    { operation: 'relationPhone', code: 5037, name: 'no code was sent', run: lastOf(async () => h.link((await h.newUser()).token, { phone: '15000150000', code: '123456' })) },
    {
      operation: 'relationPhone',
      code: 5037,
      name: 'a wrong code, in Chinese',
      zh: true,
      run: lastOf(async () => {
        const { token } = await h.newUser();
        await h.codeFor('15100151000');
        await h.link(token, { phone: '15100151000', code: '000000' }, ZH);
      }),
    },
    {
      operation: 'relationPhone',
      code: 5002,
      name: "another user's phone",
      run: lastOf(async () => {
        await linkedUser('13700137000');
        const { token } = await h.newUser();
        await h.link(token, { phone: '13700137000', code: await h.codeFor('13700137000') });
      }),
    },
    {
      operation: 'relationPhone',
      code: 200,
      name: 'the latest code',
      run: lastOf(async () => h.link((await h.newUser()).token, { phone: PHONE, code: await h.codeFor(PHONE), internationalCode: '86' })),
    },
    {
      operation: 'relationPhone',
      code: 200,
      name: 'a JSON body, a codeType 6 code',
      run: lastOf(async () => h.link((await h.newUser()).token, {}, {}, jsonBody({ phone: '15200152000', code: await h.codeFor('15200152000', '86', '6') }))),
    },
    {
      operation: 'relationPhone',
      code: 5058,
      name: "no turn within the budget (the same user's other requests)",
      run: lastOf(async () => {
        const { token } = await hurried.newUser();
        const code = await hurried.codeFor('15900159010');
        await withoutATurn(() => hurried.link(token, { phone: '15900159010', code }));
      }),
    },
    { operation: 'relationPhone', code: 500, name: 'a database fault', run: () => direct(createRelationPhoneHandler(signedIn, broken), 'POST', LINK_PATH, { phone: PHONE, code: '123456' }, bearer) },

    // userInfo
    { operation: 'userInfo', code: 5106, name: 'no token', run: lastOf(() => h.userInfo(undefined)) },
    { operation: 'userInfo', code: 5032, name: 'a token that does not verify', run: lastOf(() => h.userInfo('not-a-jwt')) },
    { operation: 'userInfo', code: 400, name: 'a JSON body that is not an object', run: lastOf(async () => h.userInfo((await h.newUser()).token, {}, jsonBody('x'))) },
    { operation: 'userInfo', code: 400, name: 'a JSON null value, in Chinese', zh: true, run: lastOf(async () => h.userInfo((await h.newUser()).token, ZH_APP, jsonBody({ a: null }))) },
    { operation: 'userInfo', code: 5033, name: 'a token for an erased user', run: lastOf(async () => h.userInfo((await h.erasedUser()).token)) },
    { operation: 'userInfo', code: 200, name: 'a user without a phone (nulls)', run: lastOf(async () => h.userInfo((await h.newUser()).token)) },
    { operation: 'userInfo', code: 200, name: 'a user with a phone, in Chinese', zh: true, run: lastOf(async () => h.userInfo((await linkedUser('13900139000')).token, ZH)) },
    { operation: 'userInfo', code: 500, name: 'a database fault', run: () => direct(createUserInfoHandler(signedIn, broken), 'GET', USER_INFO_PATH, {}, bearer) },

    // deletePhoneRelation
    { operation: 'deletePhoneRelation', code: 5106, name: 'no token', run: lastOf(() => h.unlink(undefined, { code: '123456' })) },
    { operation: 'deletePhoneRelation', code: 5032, name: 'a token that does not verify', run: lastOf(() => h.unlink('not-a-jwt', { code: '123456' })) },
    { operation: 'deletePhoneRelation', code: 400, name: 'a body that is not JSON', run: lastOf(async () => h.unlink((await h.newUser()).token, {}, {}, UNREADABLE_JSON)) },
    { operation: 'deletePhoneRelation', code: 5064, name: 'no code', run: lastOf(async () => h.unlink((await h.newUser()).token, {})) },
    { operation: 'deletePhoneRelation', code: 5033, name: 'a token for an erased user', run: lastOf(async () => h.unlink((await h.erasedUser()).token, { code: '123456' })) },
    { operation: 'deletePhoneRelation', code: 5384, name: 'a user without a phone, in Chinese', zh: true, run: lastOf(async () => h.unlink((await h.newUser()).token, { code: '123456' }, ZH)) },
    { operation: 'deletePhoneRelation', code: 5037, name: 'a wrong code', run: lastOf(async () => h.unlink((await linkedUser('18600186000')).token, { code: '000000' })) },
    {
      operation: 'deletePhoneRelation',
      code: 200,
      name: 'a codeType 4 code',
      run: lastOf(async () => {
        const { token } = await linkedUser('18800188000');
        await h.unlink(token, { code: await h.codeFor('18800188000', '86', '4') });
      }),
    },
    {
      operation: 'deletePhoneRelation',
      code: 200,
      name: 'a codeType 7 code in a form body, in Chinese',
      zh: true,
      run: lastOf(async () => {
        const { token } = await linkedUser('18900189000');
        await h.unlink(token, {}, ZH_APP, formBody({ code: await h.codeFor('18900189000', '86', '7') }));
      }),
    },
    {
      operation: 'deletePhoneRelation',
      code: 5058,
      name: "no turn within the budget (the same user's other requests)",
      run: lastOf(async () => {
        const { token } = await hurriedUser('15900159011');
        const code = await hurried.codeFor('15900159011', '86', '4');
        await withoutATurn(() => hurried.unlink(token, { code }));
      }),
    },
    { operation: 'deletePhoneRelation', code: 500, name: 'a database fault', run: () => direct(createDeletePhoneRelationHandler(signedIn, broken), 'DELETE', UNLINK_PATH, { code: '123456' }, bearer) },

    // Users: on first use (the default) and registered only
    { operation: 'userInfo', code: 200, name: 'a token for a uid never seen (first use)', run: lastOf(async () => h.userInfo(await h.tokenWithoutUser())) },
    {
      operation: 'relationPhone',
      code: 200,
      name: 'a first link for a uid never seen (first use)',
      run: lastOf(async () => h.link(await h.tokenWithoutUser(), { phone: '15300153000', code: await h.codeFor('15300153000') })),
    },
    { operation: 'deletePhoneRelation', code: 5384, name: 'a token for a uid never seen (first use)', run: lastOf(async () => h.unlink(await h.tokenWithoutUser(), { code: '123456' })) },
    { operation: 'userInfo', code: 5033, name: 'a uid never registered, where users are registered', run: lastOf(async () => registered.userInfo(await registered.tokenWithoutUser())) },
    {
      operation: 'relationPhone',
      code: 5033,
      name: 'a uid never registered, where users are registered',
      run: lastOf(async () => registered.link(await registered.tokenWithoutUser(), { phone: PHONE, code: '123456' })),
    },

    // adminGetUser
    { operation: 'adminGetUser', code: 200, name: 'a uid never seen', run: lastOf(() => h.admin('GET', randomUUID())) },
    { operation: 'adminGetUser', code: 200, name: 'a user with a phone, in Chinese', zh: true, run: async () => adminDirect('GET', await adminLinked('13400134000'), '', undefined, ZH_APP) },
    { operation: 'adminGetUser', code: 200, name: 'an erased uid', run: lastOf(async () => h.admin('GET', (await h.erasedUser()).uid)) },
    { operation: 'adminGetUser', code: 400, name: 'a uid of 129 characters', run: lastOf(() => h.admin('GET', 'u'.repeat(129))) },
    { operation: 'adminGetUser', code: 400, name: 'a body that is not JSON, in Chinese', zh: true, run: () => adminDirect('GET', randomUUID(), '', UNREADABLE_JSON, ZH) },
    { operation: 'adminGetUser', code: 500, name: 'a database fault', run: () => adminDirect('GET', 'u1', '', undefined, {}, createAdminHandler(broken)) },

    // adminRegisterUser
    { operation: 'adminRegisterUser', code: 200, name: 'a new uid', run: lastOf(() => h.admin('PUT', randomUUID())) },
    { operation: 'adminRegisterUser', code: 200, name: 'an erased uid, afresh, in Chinese', zh: true, run: async () => adminDirect('PUT', (await h.erasedUser()).uid, '', undefined, ZH_APP) },
    { operation: 'adminRegisterUser', code: 400, name: 'a uid with a space', run: lastOf(() => h.admin('PUT', 'a b')) },
    { operation: 'adminRegisterUser', code: 400, name: 'a JSON array body', run: lastOf(() => h.admin('PUT', randomUUID(), '', jsonBody([]))) },
    { operation: 'adminRegisterUser', code: 500, name: 'a database fault', run: () => adminDirect('PUT', 'u1', '', undefined, {}, createAdminHandler(broken)) },

    // adminLinkPhone, in the order of its checks
    { operation: 'adminLinkPhone', code: 400, name: 'a body that is not JSON', run: lastOf(() => h.admin('PUT', randomUUID(), '/phone', UNREADABLE_JSON)) },
    { operation: 'adminLinkPhone', code: 400, name: 'a non-ASCII uid, in Chinese', zh: true, run: () => adminDirect('PUT', 'ü', '/phone', jsonBody({ phone: PHONE }), ZH_APP) },
    { operation: 'adminLinkPhone', code: 5021, name: 'no phone', run: lastOf(() => h.admin('PUT', randomUUID(), '/phone', jsonBody({ internationalCode: '86' }))) },
    { operation: 'adminLinkPhone', code: 5019, name: 'a fixed line', run: lastOf(() => h.admin('PUT', randomUUID(), '/phone', jsonBody({ phone: '1012345678', internationalCode: '86' }))) },
    { operation: 'adminLinkPhone', code: 5033, name: 'an erased uid', run: lastOf(async () => h.admin('PUT', (await h.erasedUser()).uid, '/phone', jsonBody({ phone: '13400134001' }))) },
    {
      operation: 'adminLinkPhone',
      code: 5002,
      name: 'a phone linked to another uid',
      run: lastOf(async () => {
        await adminLinked('13400134002');
        await h.admin('PUT', randomUUID(), '/phone', jsonBody({ phone: '13400134002', internationalCode: '86' }));
      }),
    },
    { operation: 'adminLinkPhone', code: 200, name: 'a uid not known yet', run: lastOf(() => h.admin('PUT', randomUUID(), '/phone', jsonBody({ phone: '13400134003', internationalCode: '86' }))) },
    {
      operation: 'adminLinkPhone',
      code: 200,
      name: 'the phone the user has already (alreadyLinked)',
      run: lastOf(async () => h.admin('PUT', await adminLinked('13400134004'), '/phone', jsonBody({ phone: '13400134004', internationalCode: '86' }))),
    },
    {
      operation: 'adminLinkPhone',
      code: 200,
      name: 'a whole international number in a form body, in Chinese',
      zh: true,
      run: () => adminDirect('PUT', `someone@example.com`, '/phone', formBody({ phone: '+85251234567' }), ZH_APP),
    },
    {
      operation: 'adminLinkPhone',
      code: 5058,
      name: "no turn within the budget (the uid's other requests)",
      run: lastOf(() => withoutATurn(() => hurried.admin('PUT', randomUUID(), '/phone', jsonBody({ phone: '15900159012', internationalCode: '86' })))),
    },
    { operation: 'adminLinkPhone', code: 500, name: 'a database fault', run: () => adminDirect('PUT', 'u1', '/phone', jsonBody({ phone: PHONE }), {}, createAdminHandler(broken)) },

    // adminEraseUser
    {
      operation: 'adminEraseUser',
      code: 200,
      name: 'a user with a phone',
      run: lastOf(async () => h.admin('DELETE', await adminLinked('13400134005'))),
    },
    { operation: 'adminEraseUser', code: 200, name: 'a uid never seen', run: lastOf(() => h.admin('DELETE', randomUUID())) },
    { operation: 'adminEraseUser', code: 200, name: 'an erased uid again, in Chinese', zh: true, run: async () => adminDirect('DELETE', (await h.erasedUser()).uid, '', undefined, ZH_APP) },
    { operation: 'adminEraseUser', code: 400, name: 'a uid with a percent sign', run: lastOf(() => h.admin('DELETE', '100%')) },
    { operation: 'adminEraseUser', code: 400, name: 'a repeated form field', run: lastOf(() => h.admin('DELETE', randomUUID(), '', { text: 'a=1&a=2', contentType: 'application/x-www-form-urlencoded' })) },
    {
      operation: 'adminEraseUser',
      code: 5058,
      name: "no turn within the budget (the uid's other requests)",
      run: lastOf(async () => {
        const { uid } = await hurriedUser('15900159013');
        await withoutATurn(() => hurried.admin('DELETE', uid));
      }),
    },
    { operation: 'adminEraseUser', code: 500, name: 'a database fault', run: () => adminDirect('DELETE', 'u1', '', undefined, {}, createAdminHandler(broken)) },
  ];

  beforeAll(async () => {
    h = await createHarness({ onAnswer: (exchange) => exchanges.push(exchange) });
    registered = await createHarness({ env: { USER_PROVISIONING: 'registered' }, onAnswer: (exchange) => exchanges.push(exchange) });
    hurried = await createHarness({ remainingTimeMs: RESPONSE_MARGIN_MS + LAST_CALL_MS + 100, onAnswer: (exchange) => exchanges.push(exchange) });
  });
  afterAll(() => {
    h.close();
    registered.close();
    hurried.close();
  });
  // Each scenario starts after every cooldown and window of the one before.
  beforeEach(() => h.clock.advance(24 * 3600_000));

  it('has a scenario for every code the document lists, and no other', () => {
    const scenarioCodes = (operationId: string) => [...new Set(SCENARIOS.filter((s) => s.operation === operationId).map((s) => s.code))].sort((a, b) => a - b);
    for (const { operationId } of contract.operations) {
      expect({ operationId, codes: scenarioCodes(operationId) }).toEqual({ operationId, codes: contract.codes(operationId) });
    }
  });

  it.each(SCENARIOS)('$operation answers $code for $name, as documented', async ({ operation, code, zh, run }) => {
    const response = await run();
    const body = JSON.parse(response.body) as { code: unknown; msg: unknown };
    expect(contract.match(response.method, response.path)?.operationId).toBe(operation);
    expect(body.code).toBe(code);
    expect(response.status).toBe(code === 500 ? 500 : 200);
    // Chinese when asked for, English otherwise.
    expect(body.msg).toMatch(zh ? /[\u4e00-\u9fff]/ : /^[\x20-\x7e]+$/);
    expect(contract.violations(response)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The same through the local server over HTTP: the response headers as a
// client gets them.

interface Started {
  readonly server: LocalServer;
  readonly outbox: (e164: string) => { text: string }[];
}

async function startServer(): Promise<Started> {
  const { app, server } = await startServerOnFreshTables('openapi', { userDomain: USER_DOMAIN, userDomainSecret: USER_DOMAIN_SECRET, env: { SMS_COOLDOWN_SECONDS: '0' } });
  return { server, outbox: (e164) => app.outbox.messagesTo(e164) };
}

describe('the local server answers as documented', () => {
  let started: Started;
  const call = async (method: string, pathAndQuery: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResponse> => {
    const response = await fetch(`${started.server.url}${pathAndQuery}`, { method, headers, body });
    return { method, path: pathAndQuery.split('?')[0]!, status: response.status, contentType: response.headers.get('content-type') ?? undefined, body: await response.text() };
  };
  const signedSend = (phone: string, codeType: string) =>
    `${SEND_PATH}?${new URLSearchParams(signedSendQuery({ phone, internationalCode: '86', codeType, userDomain: USER_DOMAIN }, USER_DOMAIN_SECRET))}`;
  const latestCode = (e164: string) => /\d{6}/.exec(started.outbox(e164).at(-1)?.text ?? '')?.[0] ?? 'none';

  beforeAll(async () => {
    started = await startServer();
  });
  afterAll(() => started.server.close());

  it('on the four routes, from a refusal to an unlink, in English and Chinese', async () => {
    const phone = '13800138000';
    const user = (await (await fetch(`${started.server.url}/_local/users`, { method: 'POST' })).json()) as { accessToken: string };
    const auth = { Authorization: `Bearer ${user.accessToken}` };
    const steps: [string, HttpResponse, number][] = [];
    const step = async (name: string, response: Promise<HttpResponse>, code: number) => steps.push([name, await response, code]);

    await step('send without parameters', call('POST', SEND_PATH), 5021);
    await step('send, in Chinese', call('POST', signedSend(phone, '6'), ZH), 200);
    await step('link without a token', call('POST', `${LINK_PATH}?phone=${phone}&code=123456`), 5106);
    await step('link', call('POST', `${LINK_PATH}?phone=${phone}&code=${latestCode(`+86${phone}`)}&internationalCode=86`, auth), 200);
    await step('userInfo', call('GET', USER_INFO_PATH, auth), 200);
    await step('userInfo with a bad token, in Chinese', call('GET', USER_INFO_PATH, { Authorization: 'Bearer nope', ...ZH }), 5032);
    await step('send for unlinking', call('POST', signedSend(phone, '7')), 200);
    await step('unlink', call('DELETE', `${UNLINK_PATH}?code=${latestCode(`+86${phone}`)}`, auth), 200);
    await step('unlink again', call('DELETE', `${UNLINK_PATH}?code=123456`, auth), 5384);
    await step('unlink with a body that is not JSON', call('DELETE', UNLINK_PATH, { ...auth, 'Content-Type': 'application/json' }, '{"code": '), 400);
    await step('link with a form body, in Chinese', call('POST', LINK_PATH, { ...auth, ...ZH_APP, 'Content-Type': 'application/x-www-form-urlencoded' }, `phone=${phone}&code=123456`), 5037);

    for (const [name, response, code] of steps) {
      expect({ name, code: (JSON.parse(response.body) as { code: number }).code, contentType: response.contentType, violations: contract.violations(response) }).toEqual({
        name,
        code,
        contentType: 'application/json; charset=utf-8',
        violations: [],
      });
    }
  });

  it('on the four admin routes, without authorization, from a registration to an erasure', async () => {
    const uid = `someone@example.com`;
    const user = pathTo(ROUTES.adminGetUser, { uid });
    const json = { 'Content-Type': 'application/json' };
    const link = (linked: string, body: unknown, headers: Record<string, string> = {}) =>
      call(ROUTES.adminLinkPhone.method, pathTo(ROUTES.adminLinkPhone, { uid: linked }), { ...json, ...headers }, JSON.stringify(body));
    const steps: [string, HttpResponse, number][] = [];
    const step = async (name: string, response: Promise<HttpResponse>, code: number) => steps.push([name, await response, code]);

    await step('get a uid never seen', call('GET', user), 200);
    await step('register', call('PUT', user), 200);
    await step('link a phone', link(uid, { phone: '13800138300', internationalCode: '86' }), 200);
    await step('link it again (alreadyLinked)', link(uid, { phone: '13800138300' }), 200);
    await step('link it to another uid, in Chinese', link('other', { phone: '13800138300' }, ZH_APP), 5002);
    await step('link without a phone', link(uid, {}), 5021);
    await step('link a fixed line', link(uid, { phone: '1012345678', internationalCode: '86' }), 5019);
    await step('link with a form body', call('PUT', pathTo(ROUTES.adminLinkPhone, { uid }), { 'Content-Type': 'application/x-www-form-urlencoded' }, 'phone=13800138301'), 200);
    await step('get, in Chinese', call('GET', user, ZH), 200);
    await step('get a malformed uid', call('GET', pathTo(ROUTES.adminGetUser, { uid: 'a b' })), 400);
    await step('register with a body that is not JSON', call('PUT', user, json, '{"uid": '), 400);
    await step('erase', call('DELETE', user), 200);
    await step('get the erased uid', call('GET', user), 200);
    await step('link to the erased uid', link(uid, { phone: '13800138302' }), 5033);
    await step('erase it again', call('DELETE', user), 200);

    for (const [name, response, code] of steps) {
      expect({ name, code: (JSON.parse(response.body) as { code: number }).code, contentType: response.contentType, violations: contract.violations(response) }).toEqual({
        name,
        code,
        contentType: 'application/json; charset=utf-8',
        violations: [],
      });
    }
  });
});

// ---------------------------------------------------------------------------
// The document fails the build when the service drifts from it: real
// responses, changed as a drifting service would change them, are refused.

describe('drift: a response that leaves the document fails', () => {
  let h: Harness;
  let success: HttpResponse;
  let refusal: HttpResponse;
  let fault: HttpResponse;
  let adminUser: HttpResponse;
  let adminLink: HttpResponse;
  let erasure: HttpResponse;

  beforeAll(async () => {
    const exchanges: Exchange[] = [];
    h = await createHarness({ onAnswer: (exchange) => exchanges.push(exchange) });
    const { token } = await h.newUser();
    await h.link(token, { phone: PHONE, code: await h.codeFor() });
    await h.userInfo(token);
    success = fromExchange(exchanges.at(-1)!);
    await h.unlink(token, { code: '000000' });
    refusal = fromExchange(exchanges.at(-1)!);
    const event = toApiGatewayEvent({ method: 'GET', path: USER_INFO_PATH, rawQueryString: '', headers: { authorization: 'Bearer any' }, sourceIp: '192.0.2.10' });
    const signedIn = { verify: async () => ({ uid: 'u1' }) };
    const result = await (createUserInfoHandler(signedIn, () => Promise.reject(new Error('gone'))) as unknown as HttpHandler)(event, lambdaContext('userInfo'));
    fault = fromExchange({ method: 'GET', path: USER_INFO_PATH, result });
    const uid = randomUUID();
    await h.admin('PUT', uid, '/phone', jsonBody({ phone: '13800138400', internationalCode: '86' }));
    adminLink = fromExchange(exchanges.at(-1)!);
    await h.admin('GET', uid);
    adminUser = fromExchange(exchanges.at(-1)!);
    await h.admin('DELETE', uid);
    erasure = fromExchange(exchanges.at(-1)!);
  });
  afterAll(() => h.close());

  type Envelope = Record<string, unknown> & { data: Record<string, unknown> | null };
  /** The response with its body changed: `change` edits the body in place, or answers a new one. */
  const changed = (response: HttpResponse, change: (body: Envelope) => unknown): HttpResponse => {
    const body = JSON.parse(response.body) as Envelope;
    const result = change(body);
    return { ...response, body: JSON.stringify(result === undefined ? body : result) };
  };

  it('starts from real responses that match', () => {
    expect(JSON.parse(success.body)).toMatchObject({ code: 200, data: { phone: PHONE } });
    expect(JSON.parse(refusal.body)).toMatchObject({ code: 5037, data: null });
    expect(fault.status).toBe(500);
    expect(JSON.parse(adminLink.body)).toMatchObject({ code: 200, data: { alreadyLinked: false } });
    expect(JSON.parse(adminUser.body)).toMatchObject({ code: 200, data: { exists: true, erasedAt: null } });
    expect(JSON.parse(erasure.body)).toMatchObject({ code: 200, data: { erasedAt: expect.any(String) } });
    expect([success, refusal, fault, adminLink, adminUser, erasure].map((response) => contract.violations(response))).toEqual([[], [], [], [], [], []]);
  });

  it.each<[string, () => HttpResponse]>([
    ['extMsg dropped', () => changed(success, (body) => void delete body.extMsg)],
    ['a key added to the envelope', () => changed(refusal, (body) => void (body.requestId = 'r1'))],
    ['a key added to userInfo data', () => changed(success, (body) => void (body.data!.nickname = 'n'))],
    ['uid missing from userInfo data', () => changed(success, (body) => void delete body.data!.uid)],
    ['phoneLinkedAt not a date-time', () => changed(success, (body) => void (body.data!.phoneLinkedAt = 'yesterday'))],
    ['phone as a number', () => changed(success, (body) => void (body.data!.phone = 13800138000))],
    ['code as a string', () => changed(success, (body) => void (body.code = '200'))],
    [
      'a code the endpoint does not answer (5002 on deletePhoneRelation)',
      () => changed(refusal, (body) => Object.assign(body, { code: 5002, msg: 'Phone number already registered' })),
    ],
    ['an unknown code', () => changed(refusal, (body) => void (body.code = 9999))],
    ['another msg for the code', () => changed(refusal, (body) => void (body.msg = 'Wrong code'))],
    ['the msg of another code', () => changed(refusal, (body) => void (body.msg = 'Please enter token'))],
    ['data on a refusal', () => changed(refusal, (body) => void (body.data = {}))],
    ['data null on success', () => changed(success, (body) => void (body.data = null))],
    ['the envelope wrapped', () => changed(success, (body) => ({ result: body }))],
    ['HTTP 201', () => ({ ...success, status: 201 })],
    ['a refusal with HTTP 400', () => ({ ...refusal, status: 400 })],
    ['the fault with code 5000', () => changed(fault, (body) => void (body.code = 5000))],
    ['the fault with HTTP 200', () => ({ ...fault, status: 200 })],
    ['content type text/plain', () => ({ ...success, contentType: 'text/plain; charset=utf-8' })],
    ['no content type', () => ({ ...success, contentType: undefined })],
    ['a body that is not JSON', () => ({ ...success, body: 'OK' })],
    ['a route the document does not have', () => ({ ...success, path: `${USER_INFO_PATH}V2` })],
    ['the admin link without alreadyLinked', () => changed(adminLink, (body) => void delete body.data!.alreadyLinked)],
    ["the admin link answering relationPhone's data {}", () => changed(adminLink, (body) => void (body.data = {}))],
    ['the admin link with the E.164 number as phone', () => changed(adminLink, (body) => void (body.data!.phone = '+8613800138400'))],
    ['a code the admin link does not answer (5037)', () => changed(adminLink, (body) => Object.assign(body, { code: 5037, msg: 'SMS verification code failed', data: null }))],
    ['the admin user without exists', () => changed(adminUser, (body) => void delete body.data!.exists)],
    ['exists as a string', () => changed(adminUser, (body) => void (body.data!.exists = 'true'))],
    ['the admin user in the shape of userInfo', () => changed(adminUser, (body) => void (delete body.data!.exists, delete body.data!.erasedAt))],
    ['erasedAt not a date-time', () => changed(erasure, (body) => void (body.data!.erasedAt = 'today'))],
    ['the erasure with data {}', () => changed(erasure, (body) => void (body.data = {}))],
    ['a 5033 on the erasure', () => changed(erasure, (body) => Object.assign(body, { code: 5033, msg: 'User does not exist', data: null }))],
    ['an admin route with the wrong method (POST)', () => ({ ...adminUser, method: 'POST' })],
  ])('%s', (_change, drifted) => {
    expect(contract.violations(drifted())).not.toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The local docs page serves the document and Swagger UI from this machine.

describe('local docs routes', () => {
  let started: Started;
  const get = async (path: string) => {
    const response = await fetch(`${started.server.url}${path}`);
    return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
  };
  /** A raw request line: fetch would normalise `..` away. */
  const rawGet = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${started.server.url}/`, { path, method: 'GET' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.once('error', reject);
      request.end();
    });

  beforeAll(async () => {
    started = await startServer();
  });
  afterAll(() => started.server.close());

  it('serves the document as written at /_local/openapi.yaml', async () => {
    expect(await get('/_local/openapi.yaml')).toEqual({ status: 200, contentType: 'application/yaml; charset=utf-8', body: documentText });
  });

  it('serves it as JSON for the page, with this server (relative) first', async () => {
    const answer = await get('/_local/openapi.json');
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    const served = JSON.parse(answer.body) as Record<string, unknown> & { servers: { url: string }[] };
    const { servers, ...rest } = parse(documentText) as Record<string, unknown> & { servers: { url: string }[] };
    expect(served).toEqual({ ...rest, servers: [{ url: '/', description: expect.any(String) }, ...servers.filter((server) => !server.url.startsWith('http://127.0.0.1'))] });
  });

  it('serves the Swagger UI page, configured with the document, and its assets with their content types', async () => {
    const page = await get('/_local/docs');
    expect(page).toMatchObject({ status: 200, contentType: 'text/html; charset=utf-8' });
    expect(page.body).toContain('<script src="/_local/docs/swagger-ui-bundle.js"></script>');
    expect((await get('/_local/docs/')).body).toBe(page.body);
    const script = await get('/_local/docs/docs.js');
    expect(script).toMatchObject({ status: 200, contentType: 'text/javascript; charset=utf-8' });
    expect(script.body).toContain("url: '/_local/openapi.json'");
    expect(script.body).toContain('tryItOutEnabled: true');
    for (const [asset, contentType] of [
      ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
      ['swagger-ui.css', 'text/css; charset=utf-8'],
      ['favicon-32x32.png', 'image/png'],
    ]) {
      const response = await fetch(`${started.server.url}/_local/docs/${asset}`);
      const body = Buffer.from(await response.arrayBuffer());
      expect({ asset, status: response.status, contentType: response.headers.get('content-type') }).toEqual({ asset, status: 200, contentType });
      expect(body.equals(readFileSync(require.resolve(`swagger-ui-dist/${asset}`)))).toBe(true);
    }
  });

  it.each([
    '/_local/docs/../../package.json',
    '/_local/docs/..%2f..%2fpackage.json',
    '/_local/docs/%2e%2e/%2e%2e/package.json',
    '/_local/docs/index.html',
    '/_local/docs/swagger-ui-bundle.js.map',
    '/_local/docs//etc/passwd',
  ])('answers 404 for %s: only the listed files are served', async (path) => {
    expect(await rawGet(path)).toBe(404);
  });
});
