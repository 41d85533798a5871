import type { IncomingHttpHeaders } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { sign } from 'aws4';

/**
 * A small AWS client: SigV4 (aws4), one keep-alive connection pool, bounded
 * retries, timeouts. The functions make seven kinds of AWS call (five on
 * DynamoDB, SNS Publish, Secrets Manager GetSecretValue), and the AWS SDK's
 * generic machinery (endpoint rule sets, schemas, middleware stacks) cost
 * more than the whole cold-start budget (docs/PERFORMANCE.md); this does the
 * same work for those calls in a few kilobytes.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** One call as it goes on the wire, before signing; the same object for every attempt of the call. */
export interface AwsCall {
  readonly service: string;
  readonly operation: string;
  /** Whether sending it twice does no harm (see `call`). */
  readonly idempotent: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface AwsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one attempt of a call. */
export type SendAttempt = (call: AwsCall) => Promise<AwsAnswer>;

/** Wraps every attempt (a test seam for counting calls and forcing faults). */
export type AttemptInterceptor = (call: AwsCall, next: SendAttempt) => Promise<AwsAnswer>;

/** How one service speaks: its names, and how calls and answers are encoded. */
export interface AwsProtocol<Input, Output> {
  /** SigV4 signing name, and the endpoint's first label. */
  readonly signingName: string;
  /** Suffix of the `AWS_ENDPOINT_URL_<ID>` variable that overrides its endpoint (as the SDKs read it). */
  readonly endpointId: string;
  encode(operation: string, input: Input): { headers: Record<string, string>; body: string };
  decode(answer: AwsAnswer): Output;
  /** The service's error code of a failed answer, and the error to throw. */
  error(answer: AwsAnswer): AwsServiceError;
}

/** An error answered by an AWS service, named by its error code (e.g. `ConditionalCheckFailedException`). */
export class AwsServiceError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly httpStatusCode: number,
    /** AWS's id of the request, for a support case; logged with the error. */
    readonly requestId: string | undefined,
    /** The rest of the error's payload (e.g. DynamoDB's `CancellationReasons`). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** AWS's request id of an answer (`x-amzn-RequestId`, or `x-amz-request-id` on older services). */
export const requestIdOf = (answer: AwsAnswer): string | undefined => {
  const id = answer.headers['x-amzn-requestid'] ?? answer.headers['x-amz-request-id'];
  return typeof id === 'string' ? id : undefined;
};

export const isAwsError = (error: unknown, name: string): error is AwsServiceError =>
  error instanceof AwsServiceError && error.name === name;

export interface AwsHttpClientOptions {
  /** Overrides every service's endpoint (DynamoDB Local, a stub). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Default: the role credentials Lambda puts in the environment, read at each call. */
  readonly credentials?: AwsCredentials;
  /** Attempts per call, the first included. */
  readonly maxAttempts?: number;
  readonly connectTimeoutMs?: number;
  /** From sending an attempt to the end of its answer. */
  readonly requestTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

// Error codes that mean "slow down", retried with a longer back-off (the SDKs' list).
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
]);
const TRANSIENT_ERROR_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalServerError', 'ServiceUnavailable']);
const NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH']);
const BACKOFF_BASE_MS = 100;
const THROTTLING_BACKOFF_BASE_MS = 500;
const MAX_BACKOFF_MS = 2_000;

export class AwsHttpClient {
  private readonly maxAttempts: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 50 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 50 }) };
  private readonly interceptors: AttemptInterceptor[] = [];

  constructor(private readonly options: AwsHttpClientOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 1_500;
    this.env = options.env ?? process.env;
  }

  /**
   * Calls `operation` and throws the service's error. Throttling and 5xx
   * answers are retried (the AWS SDKs' policy). A timeout or a dropped
   * connection after the request may have reached AWS is retried only for an
   * `idempotent` call: a read, or a write that is safe twice (a transaction
   * with its request token). A write that is not (an SMS, `ADD 1`) fails
   * instead of maybe happening twice; one that surely never left (no
   * connection, or a kept-alive socket the server had closed) is retried.
   */
  async call<Input, Output>(protocol: AwsProtocol<Input, Output>, operation: string, input: Input, options: { idempotent: boolean }): Promise<Output> {
    const call: AwsCall = { service: protocol.signingName, operation, idempotent: options.idempotent, ...protocol.encode(operation, input) };
    const attempt = this.interceptors.reduceRight<SendAttempt>((next, interceptor) => (c) => interceptor(c, next), (c) => this.send(c, protocol));
    for (let attempts = 1; ; attempts++) {
      let answer: AwsAnswer | undefined;
      let failure: unknown;
      try {
        answer = await attempt(call);
      } catch (error) {
        failure = error;
      }
      const error = failure ?? (answer && answer.status >= 300 ? protocol.error(answer) : undefined);
      if (error === undefined) return protocol.decode(answer as AwsAnswer);
      const retry = retryKind(error, call.idempotent);
      if (!retry || attempts >= this.maxAttempts) throw error;
      await sleep(backOff(attempts, retry));
    }
  }

  /** Adds an interceptor around every attempt; returns what removes it. */
  intercept(interceptor: AttemptInterceptor): () => void {
    this.interceptors.push(interceptor);
    return () => {
      const at = this.interceptors.indexOf(interceptor);
      if (at >= 0) this.interceptors.splice(at, 1);
    };
  }

  /** Closes idle connections (tests, scripts); Lambda just freezes them. */
  destroy(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private send(call: AwsCall, protocol: AwsProtocol<unknown, unknown>): Promise<AwsAnswer> {
    const url = new URL(this.endpoint(protocol));
    const region = this.region();
    const signed = sign(
      {
        host: url.host,
        path: url.pathname,
        method: 'POST',
        service: call.service,
        region,
        headers: { ...call.headers, Host: url.host },
        body: call.body,
      },
      this.credentials(),
    );
    const https = url.protocol === 'https:';
    return new Promise<AwsAnswer>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)({
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: signed.headers,
        agent: https ? this.agents.https : this.agents.http,
      });
      const deadline = setTimeout(() => request.destroy(timeoutError(`No answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      let connected = false;
      request.on('socket', (socket) => {
        if (!socket.connecting) {
          connected = true;
          return;
        }
        const connecting = setTimeout(() => request.destroy(timeoutError(`No connection within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
        socket.once('connect', () => {
          connected = true;
          clearTimeout(connecting);
        });
        socket.once('close', () => clearTimeout(connecting));
      });
      const fail = (error: Error & { code?: unknown }) => {
        clearTimeout(deadline);
        // Node's advice for kept-alive sockets: a reset before any answer on a
        // reused socket means the server had closed it, and never read the request.
        const neverSent = !connected || (request.reusedSocket && error.code === 'ECONNRESET');
        reject(neverSent ? Object.assign(error, { [NEVER_SENT]: true }) : error);
      };
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.on('error', fail);
      request.end(call.body);
    });
  }

  private endpoint(protocol: AwsProtocol<unknown, unknown>): string {
    const configured = this.options.endpoint ?? this.env[`AWS_ENDPOINT_URL_${protocol.endpointId}`] ?? this.env.AWS_ENDPOINT_URL;
    return configured || defaultEndpoint(protocol.signingName, this.region());
  }

  private region(): string {
    const region = this.options.region ?? this.env.AWS_REGION ?? this.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('No AWS region: set AWS_REGION');
    return region;
  }

  private credentials(): AwsCredentials {
    if (this.options.credentials) return this.options.credentials;
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = this.env;
    if (!accessKeyId || !secretAccessKey) throw new Error('No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
}

/**
 * A service's regional endpoint in the commercial (aws), China (aws-cn) and
 * GovCloud partitions. The isolated partitions, FIPS and dual-stack
 * endpoints take an AWS_ENDPOINT_URL_<SERVICE> variable instead.
 */
export const defaultEndpoint = (service: string, region: string): string =>
  `https://${service}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/`;

type RetryKind = 'throttling' | 'transient';

/** Marks a transport error that happened before the request could reach AWS. */
const NEVER_SENT = Symbol('neverSent');

function retryKind(error: unknown, idempotent: boolean): RetryKind | undefined {
  if (error instanceof AwsServiceError) {
    if (THROTTLING.has(error.name) || error.httpStatusCode === 429) return 'throttling';
    if (error.httpStatusCode >= 500 || TRANSIENT_ERROR_CODES.has(error.name)) return 'transient';
    return undefined;
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  const transient = name === 'TimeoutError' || (typeof code === 'string' && NETWORK_ERRORS.has(code));
  if (!transient) return undefined;
  return idempotent || (error as { [NEVER_SENT]?: boolean })[NEVER_SENT] ? 'transient' : undefined;
}

/** Full jitter, as the AWS SDKs do: a random wait up to an exponentially growing cap. */
const backOff = (attempt: number, kind: RetryKind): number =>
  Math.random() * Math.min(MAX_BACKOFF_MS, (kind === 'throttling' ? THROTTLING_BACKOFF_BASE_MS : BACKOFF_BASE_MS) * 2 ** (attempt - 1));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const timeoutError = (message: string) => Object.assign(new Error(message), { name: 'TimeoutError' });

/** AWS JSON 1.0 / 1.1 (DynamoDB, Secrets Manager): a JSON body, the operation in `X-Amz-Target`. */
export function awsJsonProtocol<Input, Output>(spec: {
  signingName: string;
  endpointId: string;
  version: '1.0' | '1.1';
  targetPrefix: string;
}): AwsProtocol<Input, Output> {
  return {
    signingName: spec.signingName,
    endpointId: spec.endpointId,
    encode: (operation, input) => ({
      headers: { 'Content-Type': `application/x-amz-json-${spec.version}`, 'X-Amz-Target': `${spec.targetPrefix}.${operation}` },
      body: JSON.stringify(input),
    }),
    decode: (answer) => (answer.body ? JSON.parse(answer.body) : {}) as Output,
    error: (answer) => {
      const payload = parseJsonObject(answer.body);
      const type = String(payload.__type ?? answer.headers['x-amzn-errortype'] ?? `Http${answer.status}`);
      // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", or "Name:http://..." in the header.
      const name = (type.split('#').pop() ?? type).split(':')[0] ?? type;
      const message = String(payload.message ?? payload.Message ?? `HTTP ${answer.status}`);
      return new AwsServiceError(name, message, answer.status, requestIdOf(answer), payload);
    },
  };
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
