import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type * as VerifierModule from '../../functions/adapters/auth/jose-token-verifier';
import type { KeySetTiming } from '../../functions/adapters/auth/jose-token-verifier';
import type * as UsersModule from '../../functions/adapters/dynamodb/users';
import type * as HandlersModule from '../../functions/http/handlers';
import type * as EventsModule from '../../local/api-gateway-event';
import type * as HarnessModule from '../support/harness';
import type { Harness } from '../support/harness';
import { captureEmf, type EmfCapture } from '../support/emf-capture';
import { neverLog } from '../support/log-hygiene';
import { ROUTES } from '../../functions/http/routes';

/**
 * The key set as the cloud fetches it: the userInfo handler with a
 * JoseTokenVerifier on `{ keys: { jwksUrl } }`, users on DynamoDB Local, and
 * the login service's key set served over HTTP by a server the test steers.
 */

const FAULT = { code: 500, msg: 'Internal server error', extMsg: '', data: null };

/** What the key set endpoint answers now. */
interface KeySetAnswer {
  readonly status?: number;
  readonly contentType?: string;
  readonly body: string;
  readonly delayMs?: number;
}

interface SigningKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly privateKey: CryptoKey;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const serving = (...keys: SigningKey[]): KeySetAnswer => ({ body: JSON.stringify({ keys: keys.map((key) => key.publicJwk) }) });

// Metrics are off in every suite (test/support/env.ts), and Powertools reads that once, when the
// functions' observability module loads: turn them on before loading it, to read the EMF lines.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
let functions: {
  handlers: typeof HandlersModule;
  verifier: typeof VerifierModule;
  users: typeof UsersModule;
  events: typeof EventsModule;
  harness: typeof HarnessModule;
};

describe('the login service key set, fetched over HTTP', () => {
  let h: Harness;
  let server: Server;
  let jwksUrl: string;
  let answer: KeySetAnswer;
  let fetches: number;
  let emf: EmfCapture;
  let k1: SigningKey;
  let k2: SigningKey;

  beforeAll(async () => {
    functions = {
      handlers: await import('../../functions/http/handlers'),
      verifier: await import('../../functions/adapters/auth/jose-token-verifier'),
      users: await import('../../functions/adapters/dynamodb/users'),
      events: await import('../../local/api-gateway-event'),
      harness: await import('../support/harness'),
    };
    h = await functions.harness.createHarness();
    [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2')]);
    server = createServer((_request, response) => {
      fetches += 1;
      const { status = 200, contentType = 'application/json', body, delayMs = 0 } = answer;
      const reply = setTimeout(() => response.writeHead(status, { 'Content-Type': contentType }).end(body), delayMs);
      response.on('close', () => clearTimeout(reply));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    h.close();
  });

  beforeEach(() => {
    answer = serving(k1);
    fetches = 0;
    emf = captureEmf();
  });
  afterEach(() => {
    emf.close();
    jest.useRealTimers();
  });

  /** KeySetFailures counted in this test. */
  const keySetFailuresCounted = (): number => emf.total('KeySetFailures');

  /** userInfo wired like the cloud's, on a verifier of its own (so with an empty key set cache). */
  const userInfoEndpoint = (url = jwksUrl, timing?: KeySetTiming) => {
    const verifier = new functions.verifier.JoseTokenVerifier({ keys: { jwksUrl: url }, issuer: undefined }, timing);
    const users = new functions.users.DynamoUsers(h.db, h.tables.usersTableName);
    const handler = functions.handlers.createUserInfoHandler(verifier, functions.handlers.ready({ users, provisioning: 'on-first-use' }));
    return async (token: string) => {
      const { toApiGatewayEvent, lambdaContext } = functions.events;
      const event = toApiGatewayEvent({ method: ROUTES.userInfo.method, path: ROUTES.userInfo.path, rawQueryString: '', headers: { authorization: `Bearer ${token}` }, sourceIp: '203.0.113.7' });
      const result = await handler(event, lambdaContext('userInfo') as Parameters<typeof handler>[1]);
      return { status: result.statusCode, body: JSON.parse(result.body) as { code: number; data: { uid?: string } | null } };
    };
  };

  /** A fresh access token (never remembered by any verifier) signed by `key`, under `kid`. */
  const tokenSignedBy = async (key: SigningKey, kid = key.kid): Promise<string> => {
    const token = await new SignJWT({ uid: randomUUID(), type: 'AccessToken' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setExpirationTime('2h')
      .sign(key.privateKey);
    neverLog(token);
    return token;
  };

  /**
   * Moves the clock the verifier and jose read (Date only: sockets and timers keep real time),
   * to go past jose's cooldown and cache age and our remembered-token cache without waiting.
   */
  const clockAt = (start: number) => {
    jest.useFakeTimers({ now: start, doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    return { at: (ms: number) => jest.setSystemTime(start + ms) };
  };

  it('answers HTTP 500 and the fault envelope while the key set answers 503, and 200 once it recovers', async () => {
    const userInfo = userInfoEndpoint();
    const token = await tokenSignedBy(k1);
    answer = { status: 503, contentType: 'text/plain', body: 'Service Unavailable' };

    expect(await userInfo(token)).toEqual({ status: 500, body: FAULT });
    expect(keySetFailuresCounted()).toBe(1);

    // A failed fetch starts no cooldown (jose stamps only a fetched set): the next request fetches again.
    answer = serving(k1);
    expect(await userInfo(token)).toMatchObject({ status: 200, body: { code: 200 } });
  });

  it.each<[string, KeySetAnswer]>([
    ['malformed JSON', { body: '{"keys": [{"kty": "EC",' }],
    ['an HTML error page', { contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }],
    ['JSON that is not a key set', { body: '{"keys": "k1"}' }],
    // jose takes it for a key set, in which no token's kid is found: every user would be refused (5032).
    ['a key set with no keys at all', { body: '{"keys": []}' }],
  ])('answers HTTP 500 when the key set is %s', async (_, failing) => {
    const userInfo = userInfoEndpoint();
    answer = failing;
    expect(await userInfo(await tokenSignedBy(k1))).toEqual({ status: 500, body: FAULT });
    expect({ fetches, keySetFailures: keySetFailuresCounted() }).toEqual({ fetches: 1, keySetFailures: 1 });
  });

  it('answers HTTP 500 when the key set is slower than the fetch timeout', async () => {
    const userInfo = userInfoEndpoint(jwksUrl, { timeoutDuration: 200 });
    answer = { ...serving(k1), delayMs: 30_000 };
    expect(await userInfo(await tokenSignedBy(k1))).toEqual({ status: 500, body: FAULT });
    expect({ fetches, keySetFailures: keySetFailuresCounted() }).toEqual({ fetches: 1, keySetFailures: 1 });
  });

  it('answers HTTP 500 when the key set refuses the connection', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');

    const userInfo = userInfoEndpoint(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    expect(await userInfo(await tokenSignedBy(k1))).toEqual({ status: 500, body: FAULT });
    expect(keySetFailuresCounted()).toBe(1);
  });

  it('refuses (5032) a token whose kid is in no key of the fetched set, or whose signature is not the key\'s', async () => {
    const userInfo = userInfoEndpoint();
    const stranger = await signingKey('k9');

    expect(await userInfo(await tokenSignedBy(stranger))).toMatchObject({ status: 200, body: { code: 5032 } });
    expect(await userInfo(await tokenSignedBy(stranger, 'k1'))).toMatchObject({ status: 200, body: { code: 5032 } });
    expect(fetches).toBe(1);
  });

  it('counts KeySetFailures for each request the key set failed, never for a bad token', async () => {
    const userInfo = userInfoEndpoint();
    answer = { status: 503, body: '' };
    await userInfo(await tokenSignedBy(k1));
    await userInfo(await tokenSignedBy(k1));
    expect(keySetFailuresCounted()).toBe(2);

    answer = serving(k1);
    expect((await userInfo(await tokenSignedBy(k2))).body.code).toBe(5032);
    expect((await userInfo(await tokenSignedBy(k2, 'k1'))).body.code).toBe(5032);
    expect((await userInfo('not-a-jwt')).body.code).toBe(5032);
    expect(keySetFailuresCounted()).toBe(2);
  });

  it('picks up a new kid: fetched again when a token names it, once the 30 s cooldown since the last fetch is over', async () => {
    const clock = clockAt(Date.now());
    const userInfo = userInfoEndpoint();
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);

    answer = serving(k1, k2);
    const rotated = await tokenSignedBy(k2);
    clock.at(29_999);
    expect((await userInfo(rotated)).body.code).toBe(5032);
    expect(fetches).toBe(1);

    clock.at(30_000);
    expect((await userInfo(rotated)).body.code).toBe(200);
    expect(fetches).toBe(2);
  });

  it('keeps verifying a removed key until the set is 10 minutes old, and a token it verified 5 minutes more', async () => {
    const clock = clockAt(Date.now());
    const userInfo = userInfoEndpoint();
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);
    answer = serving(k2);

    // Tokens naming a known kid cause no fetch: jose verifies them with the set it has.
    clock.at(10 * 60_000 - 1);
    const lastVerified = await tokenSignedBy(k1);
    expect((await userInfo(lastVerified)).body.code).toBe(200);
    expect(fetches).toBe(1);

    // The set is fetched again before it is used: new tokens signed by k1 are refused...
    clock.at(10 * 60_000);
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(5032);
    expect(fetches).toBe(2);
    // ...but the one verified last is remembered, until 5 minutes after it was verified.
    clock.at(15 * 60_000 - 2);
    expect((await userInfo(lastVerified)).body.code).toBe(200);
    clock.at(15 * 60_000 - 1);
    expect((await userInfo(lastVerified)).body.code).toBe(5032);
  });

  it('keeps verifying with the cached set while a refetch fails, until that set is 10 minutes old', async () => {
    const clock = clockAt(Date.now());
    const userInfo = userInfoEndpoint();
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);
    answer = { status: 503, body: '' };

    // An unknown kid after the cooldown refetches; the fetch fails: that token is our fault, and k1's still verify.
    clock.at(60_000);
    expect(await userInfo(await tokenSignedBy(k2))).toEqual({ status: 500, body: FAULT });
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);

    clock.at(10 * 60_000);
    expect(await userInfo(await tokenSignedBy(k1))).toEqual({ status: 500, body: FAULT });
  });

  it('takes a key set with no keys for one that cannot be had: the last good set verifies until it is 10 minutes old, then 500', async () => {
    const clock = clockAt(Date.now());
    const userInfo = userInfoEndpoint();
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);
    answer = { body: '{"keys": []}' };

    // A refetch (an unknown kid, past the cooldown) gets no keys: that token is our fault, and k1's still verify.
    clock.at(60_000);
    expect(await userInfo(await tokenSignedBy(k2))).toEqual({ status: 500, body: FAULT });
    expect((await userInfo(await tokenSignedBy(k1))).body.code).toBe(200);
    expect({ fetches, keySetFailures: keySetFailuresCounted() }).toEqual({ fetches: 2, keySetFailures: 1 });

    // The last good set has aged out: every token waits for a set with keys, and is our fault until one comes.
    clock.at(10 * 60_000);
    expect(await userInfo(await tokenSignedBy(k1))).toEqual({ status: 500, body: FAULT });
    answer = serving(k1, k2);
    expect((await userInfo(await tokenSignedBy(k2))).body.code).toBe(200);
    expect({ fetches, keySetFailures: keySetFailuresCounted() }).toEqual({ fetches: 4, keySetFailures: 2 });
  });
});
