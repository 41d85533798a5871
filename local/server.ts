import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { RuleViolation } from '../functions/domain/errors';
import { normalizePhone, parseCallingCode } from '../functions/domain/phone';
import { isUserId } from '../functions/domain/user-id';
import { fault, type Envelope, type HttpResult } from '../functions/http/envelope';
import type { HttpHandler } from '../functions/http/handlers';
import { matchRoute, type HttpFunctionName } from '../functions/http/routes';
import { lambdaContext, routedEvent } from './api-gateway-event';
import type { LocalApp } from './app';
import { docsRoutes } from './docs';

/**
 * The local stand-in for API Gateway: a plain node:http server on loopback
 * that turns each request into the HTTP API event the cloud would build and
 * hands it to the very same handler. The `/_local/` routes (health, users,
 * outbox, API docs) exist only here.
 *
 * Like an edge, it answers everything it refuses with the envelope (Node's
 * own parser errors included), closes connections that are too slow, and
 * serves only requests addressed to a loopback name.
 */

/**
 * The server's own log lines. Not the functions' logger: that one carries
 * the function name and request id of the last request it served, which a
 * disconnect or a parser error has nothing to do with.
 */
const serverLog = new Logger({ serviceName: 'phone-link-local-server' });

/** What the server needs of the local app (a stub will do in tests). */
export interface LocalServerApp {
  /** With a login service's key set, tokens come from it: the local token routes are not served. */
  readonly tokenKeys: Pick<LocalApp['tokenKeys'], 'source'>;
  /** Each function's handler, by its name in the route table. */
  readonly handlers: Readonly<Record<HttpFunctionName, HttpHandler>>;
  readonly users: Pick<LocalApp['users'], 'register'>;
  readonly outbox: Pick<LocalApp['outbox'], 'messagesTo'>;
  readonly tokenIssuer: Pick<LocalApp['tokenIssuer'], 'signAccessToken'>;
}

export interface LocalServerOptions {
  readonly app: LocalServerApp;
  /** 0 picks a free port. */
  readonly port: number;
  /** Larger bodies answer 413. Default 64 KiB. */
  readonly maxBodyBytes?: number;
  readonly timeouts?: Partial<LocalServerTimeouts>;
}

/** How long a connection may take; past it, the connection is answered 408 and closed. */
export interface LocalServerTimeouts {
  /** From the connection's first byte (or the end of the previous request) to the end of the headers. */
  readonly headersMs: number;
  /** To receive the whole request, body included. */
  readonly requestMs: number;
  /** An idle keep-alive connection between two requests. */
  readonly keepAliveMs: number;
}

/**
 * Ample for a client on this machine, short enough that a slowloris
 * connection cannot hold a socket for minutes (Node's request timeout
 * defaults to 5 minutes).
 */
export const DEFAULT_TIMEOUTS: LocalServerTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

export interface LocalServer {
  /** `http://127.0.0.1:<port>`, the port actually bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use. Stop whatever holds it, or pick another port: PORT=3001 npm start`);
    this.name = 'PortInUseError';
  }
}

const HOST = '127.0.0.1';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

type Route = (request: LocalRequest) => Promise<HttpResult>;

interface LocalRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQueryString: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly sourceIp: string;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const routes = localRoutes(options.app);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // Node enforces the two timeouts above only when it checks, this often: never much later than they say.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeouts.headersMs / 2))),
      // serve() answers a missing Host itself, with the envelope (Node's own 400 has an empty body).
      requireHostHeader: false,
    },
    (req, res) => {
      owe(res);
      // serve() answers every fault itself; the catch is only a last guard so nothing can crash the server.
      serve(req, res, options.app, routes, maxBodyBytes).catch(() => res.destroy());
    },
  );
  server.on('clientError', answerClientError);
  // Without these listeners Node answers `Expect: <other than 100-continue>` with an empty 417, and drops CONNECT unanswered.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    owe(res);
    req.resume();
    writeResult(res, hostRefusal(req) ?? envelope(417, 'Expectation failed'), true);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    writeRaw(socket, hostRefusal(req) ?? envelope(404, 'Not found'));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port) : error);
    server.once('error', onError);
    server.listen(options.port, HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would hold close() open; requests in flight get a moment.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      }),
  };
}

/**
 * The API's routes (functions/http/routes.ts), each to its function's
 * handler with the event API Gateway would build: the route key, and the
 * path parameters still percent-encoded. Locally the admin routes need no
 * authorization: the server listens on loopback only.
 */
function apiRoute(app: LocalServerApp, method: string, path: string): Route | undefined {
  if (matchRoute(method, path) === undefined) return undefined;
  return async (request) => {
    const routed = routedEvent(request);
    if (routed === undefined) throw new Error(`${method} ${path} matched no route`);
    return app.handlers[routed.function](routed.event, lambdaContext(routed.function));
  };
}

/** The routes only this server has. */
function localRoutes(app: LocalServerApp): Map<string, Route> {
  return new Map<string, Route>([
    ['GET /_local/health', async () => json(200, { status: 'ok' })],
    // Tokens of a login service (JWKS_URL) cannot be minted here: the routes are not served.
    ...(app.tokenKeys.source === 'local'
      ? ([
          ['POST /_local/users', (request) => createUser(app, request.body)],
          ['POST /_local/tokens', (request) => createToken(app, request.body)],
        ] satisfies [string, Route][])
      : []),
    ['GET /_local/outbox', async (request) => outbox(app, request.rawQueryString)],
    ...docsRoutes(),
  ]);
}

/**
 * The Host names this server answers to. A web page that rebinds its own
 * DNS name to 127.0.0.1 reaches this port, but its requests still carry
 * that name, so they are refused.
 */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/**
 * 403 for a Host that is not a loopback name, 400 for an HTTP/1.1 request
 * without a Host or with several (RFC 9112 section 3.2); undefined when the Host is fine.
 * An HTTP/1.0 request may have no Host: browsers always send one, so its
 * absence cannot be a rebinding page.
 */
function hostRefusal(req: IncomingMessage): HttpResult | undefined {
  const hosts = req.rawHeaders.filter((_, at) => at % 2 === 0).filter((name) => name.toLowerCase() === 'host').length;
  const host = req.headers.host;
  if (hosts > 1) return envelope(400, 'Bad request');
  if (host === undefined) return req.httpVersion === '1.0' ? undefined : envelope(400, 'Bad request');
  return LOOPBACK_HOST.test(host) ? undefined : envelope(403, 'Forbidden');
}

/**
 * Node's parser refused the request (or the client went away): there is no
 * request object, so the answer goes straight onto the socket, and closes
 * it. The requests pipelined ahead of the refused one were read and are
 * being served: their answers go first, in order, so the 400 waits for
 * them. The error's raw packet is never logged: it may hold a token.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const reason = error.code ?? 'unknown';
  if (CLIENT_GONE.has(reason)) {
    serverLog.debug('Client disconnected', { reason });
    socket.destroy();
    return;
  }
  // The parser stays failed: each further chunk from the client raises the error again.
  if (refusing.has(socket)) return;
  if (!socket.writable) {
    serverLog.debug('Client disconnected', { reason });
    socket.destroy();
    return;
  }
  refusing.add(socket);
  const result = CLIENT_ERROR_ANSWERS[reason]?.() ?? envelope(400, 'Bad request');
  serverLog.debug('Malformed request refused', { reason, status: result.statusCode });
  // A request not read whole is the refused one itself: waited for only if its answer is under way.
  const ahead = [...(owedAnswers.get(socket) ?? [])].filter((res) => res.req.complete || res.headersSent);
  void Promise.all(ahead.map((res) => new Promise((resolve) => res.once('close', resolve)))).then(() => {
    // An answer that closed the connection (413, a refused Host, a client gone) leaves nothing to add.
    if (socket.writable) writeRaw(socket, result);
  });
}

/** The client closed or reset the connection, possibly mid-request: nobody is left to answer. */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'HPE_INVALID_EOF_STATE']);

const CLIENT_ERROR_ANSWERS: Record<string, () => HttpResult> = {
  HPE_HEADER_OVERFLOW: () => envelope(431, 'Request header fields too large'),
  ERR_HTTP_REQUEST_TIMEOUT: () => envelope(408, 'Request timeout'),
};

/**
 * The answers each connection still owes, in the order its requests came:
 * Node writes pipelined answers in that order, one after the other.
 */
const owedAnswers = new WeakMap<Duplex, Set<ServerResponse>>();

function owe(res: ServerResponse): void {
  const socket = res.req.socket;
  const owed = owedAnswers.get(socket) ?? new Set<ServerResponse>();
  owedAnswers.set(socket, owed);
  owed.add(res);
  res.once('close', () => owed.delete(res));
}

/** Connections whose parser error is answered already, or will be once the answers ahead of it are out. */
const refusing = new WeakSet<Duplex>();

/** A whole HTTP response written on a bare socket, which is then closed. */
function writeRaw(socket: Duplex, result: HttpResult): void {
  const body = Buffer.from(result.body, 'utf8');
  const head = [
    `HTTP/1.1 ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${body.length}`,
    'Connection: close',
  ].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]));
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  app: LocalServerApp,
  routes: Map<string, Route>,
  maxBodyBytes: number,
): Promise<void> {
  const refusal = hostRefusal(req);
  if (refusal) {
    // The body is not read; closing the connection keeps it from being parsed as a next request.
    req.resume();
    writeResult(res, refusal, true);
    return;
  }
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);
  const method = req.method ?? 'GET';
  const sourceIp = (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');

  let result: HttpResult;
  try {
    const route = apiRoute(app, method, path) ?? routes.get(`${method} ${path}`);
    const body = await readBody(req, maxBodyBytes);
    // The client went away mid-body, or the parser refused the body and answered (answerClientError).
    if (body === disconnected) return;
    if (body === tooLarge) {
      result = envelope(413, 'Request body too large');
    } else if (route) {
      result = await route({ method, path, rawQueryString, headers: req.headers, body, sourceIp });
    } else {
      result = envelope(404, 'Not found');
    }
  } catch (error) {
    serverLog.error('Local server fault', { route: `${method} ${path}`, error: error instanceof Error ? error : String(error) });
    result = fault('en');
  }
  if (res.destroyed || req.socket.destroyed) {
    serverLog.debug('Client disconnected', { reason: 'closed before the answer' });
    return;
  }
  try {
    writeResult(res, result, result.statusCode === 413);
  } catch (error) {
    serverLog.warn('Local server could not answer', { error: error instanceof Error ? error.message : String(error) });
    res.destroy();
  }
}

const tooLarge = Symbol('tooLarge');
const disconnected = Symbol('disconnected');

/**
 * The body as UTF-8; `tooLarge` once it passes the limit (the rest is
 * drained, not kept); `disconnected` when the request ends before its body
 * does. That is the client's doing, never a fault of this server.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string | typeof tooLarge | typeof disconnected> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > maxBytes ? tooLarge : Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => resolve(disconnected));
    req.once('close', () => resolve(disconnected));
  });
}

function writeResult(res: ServerResponse, result: HttpResult, closeConnection: boolean): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  headers['content-length'] = String(body.length);
  if (closeConnection) headers.connection = 'close';
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/** POST /_local/users, body `{"uid": "..."}` or nothing: make or keep the user, sign a token. */
async function createUser(app: LocalServerApp, body: string): Promise<HttpResult> {
  const uid = parseUid(body);
  if (uid === undefined) return envelope(400, 'Invalid parameter: uid');
  await app.users.register(uid, Date.now());
  return json(200, { uid, accessToken: await app.tokenIssuer.signAccessToken(uid) });
}

/** POST /_local/tokens, body `{"uid": "..."}`: a token for a user the login service knows, and no write here. */
async function createToken(app: LocalServerApp, body: string): Promise<HttpResult> {
  const uid = parseUid(body);
  if (uid === undefined) return envelope(400, 'Invalid parameter: uid');
  return json(200, { uid, accessToken: await app.tokenIssuer.signAccessToken(uid) });
}

/** JSON whatever the content type (curl -d says form-urlencoded). A fresh uid when none is given. */
function parseUid(body: string): string | undefined {
  if (body.trim() === '') return randomUUID();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { uid } = parsed as { uid?: unknown };
  if (uid === undefined) return randomUUID();
  return isUserId(uid) ? uid : undefined;
}

/** Said with every 400 of the outbox: the forms it takes. */
const OUTBOX_PHONE_FORMS =
  'phone: an international number such as +8613800138000 (%2B8613800138000 in a URL), ' +
  'or a national number with its internationalCode: phone=13800138000&internationalCode=86';

/**
 * GET /_local/outbox: the SMS sent to one number, oldest first. The number
 * comes as sendPhoneSmsCode takes it, read by the API's own rule
 * (normalizePhone): whole, starting with `+`, or national beside
 * `internationalCode`. A bare national number has no country here (the
 * domestic default is relationPhone's, not the send's), so it is a 400 that
 * says which forms work. An unencoded `+` arrives as a space: a leading
 * space is taken for it.
 */
function outbox(app: LocalServerApp, rawQueryString: string): HttpResult {
  const query = new URLSearchParams(rawQueryString);
  const rawPhone = query.get('phone') ?? '';
  const phone = rawPhone.startsWith(' ') ? `+${rawPhone.trimStart()}` : rawPhone.trim();
  const internationalCode = query.get('internationalCode')?.trim() || undefined;
  const refused = (name: string) => json(400, { code: 400, msg: `Invalid parameter: ${name}`, extMsg: OUTBOX_PHONE_FORMS, data: null } satisfies Envelope);
  try {
    if (internationalCode !== undefined) parseCallingCode(internationalCode);
  } catch (error) {
    if (error instanceof RuleViolation) return refused('internationalCode');
    throw error;
  }
  let e164: string;
  try {
    e164 = normalizePhone(phone, internationalCode).e164;
  } catch (error) {
    if (error instanceof RuleViolation) return refused('phone');
    throw error;
  }
  return json(200, { messages: app.outbox.messagesTo(e164) });
}

const json = (statusCode: number, body: object): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

const envelope = (code: number, msg: string): HttpResult => json(code, { code, msg, extMsg: '', data: null } satisfies Envelope);
