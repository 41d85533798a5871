import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { generate as generateCertificate } from 'selfsigned';

/**
 * What the deployed functions reach instead of AWS and the login service,
 * each on loopback: every AWS call is recorded with the function that made
 * it, for the IAM simulation.
 */

/** One AWS API call a function made, as the service saw it. */
export interface RecordedCall {
  /** The function's logical id. */
  readonly functionId: string;
  /** The signing name: dynamodb, sns, secretsmanager. */
  readonly service: string;
  /** The API operation: TransactWriteItems, Publish, GetSecretValue ... */
  readonly operation: string;
  /** The request's parameters (the JSON body, or the query protocol's form). */
  readonly input: Record<string, unknown>;
}

interface Interruption {
  readonly functionId: string;
  matches(call: RecordedCall): boolean;
  then(call: RecordedCall): void;
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const close = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** The service a SigV4-signed request is for: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
const signingService = (req: IncomingMessage): string | undefined => /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];

export interface AwsStandInOptions {
  /** DynamoDB Local, which the DynamoDB calls are passed on to, unchanged. */
  readonly dynamoDbEndpoint: string;
  /** Secret values by ARN: what GetSecretValue answers. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Phone numbers (E.164) SNS refuses definitely (InvalidParameter), as for an opted-out number. */
  readonly refusedNumbers: ReadonlySet<string>;
}

/**
 * One loopback endpoint per function for DynamoDB, SNS and Secrets Manager,
 * told apart by the request's signing service: a recording proxy in front of
 * DynamoDB Local, an SNS stub (Publish, query protocol) and a Secrets
 * Manager stub (GetSecretValue, JSON protocol).
 */
export class AwsStandIns {
  readonly calls: RecordedCall[] = [];
  private readonly interruptions: Interruption[] = [];
  /** SMS texts SNS accepted, by phone number. */
  readonly sms = new Map<string, string[]>();
  private readonly servers: Server[] = [];

  constructor(private readonly options: AwsStandInOptions) {}

  /** A fresh endpoint whose calls are recorded as `functionId`'s. */
  async endpointFor(functionId: string): Promise<string> {
    const server = createHttpServer((req, res) => {
      this.handle(functionId, req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stand-in fault: ${String(error)}`);
      });
    });
    this.servers.push(server);
    return `http://${await listen(server)}`;
  }

  /**
   * The next DynamoDB call of `functionId` that `matches` never reaches the
   * table: `then` runs instead (say, the function's process is killed), and
   * the call goes unanswered. It is still recorded: the function made it.
   * Resolves with the call once it happened.
   */
  interruptNext(functionId: string, matches: (call: RecordedCall) => boolean, then: () => void): Promise<RecordedCall> {
    return new Promise((resolve) => this.interruptions.push({ functionId, matches, then: (call) => (then(), resolve(call)) }));
  }

  close(): Promise<void[]> {
    return Promise.all(this.servers.map(close));
  }

  private async handle(functionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const service = signingService(req);
    if (service === 'dynamodb') return this.dynamoDb(functionId, req, body, res);
    if (service === 'secretsmanager') return this.secretsManager(functionId, req, body, res);
    if (service === 'sns') return this.sns(functionId, body, res);
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`stand-in: unsigned, or a service nobody stands in for (${service})`);
  }

  private dynamoDb(functionId: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    const call: RecordedCall = { functionId, service: 'dynamodb', operation, input: JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown> };
    this.calls.push(call);
    const interruption = this.interruptions.findIndex((candidate) => candidate.functionId === functionId && candidate.matches(call));
    if (interruption >= 0) {
      const [{ then }] = this.interruptions.splice(interruption, 1) as [Interruption];
      then(call);
      res.destroy();
      return Promise.resolve();
    }
    const target = new URL(this.options.dynamoDbEndpoint);
    return new Promise((resolve, reject) => {
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
        },
      );
      forward.on('error', reject);
      forward.end(body);
    });
  }

  private secretsManager(functionId: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    const input = JSON.parse(body.toString('utf8') || '{}') as { SecretId?: string };
    this.calls.push({ functionId, service: 'secretsmanager', operation, input });
    const value = input.SecretId === undefined ? undefined : this.options.secrets.get(input.SecretId);
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (operation !== 'GetSecretValue' || value === undefined) {
      res.writeHead(400);
      res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret (${operation})` }));
      return;
    }
    res.writeHead(200);
    res.end(JSON.stringify({ ARN: input.SecretId, Name: input.SecretId, SecretString: value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 }));
  }

  private sns(functionId: string, body: Buffer, res: ServerResponse): void {
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    const { Action: operation = '', ...input } = form;
    this.calls.push({ functionId, service: 'sns', operation, input });
    res.setHeader('content-type', 'text/xml');
    const to = input.PhoneNumber ?? '';
    if (operation !== 'Publish' || this.options.refusedNumbers.has(to)) {
      res.writeHead(400);
      res.end(
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code>' +
          `<Message>Invalid parameter: PhoneNumber Reason: ${operation === 'Publish' ? 'opted out' : `unsupported ${operation}`}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    this.sms.set(to, [...(this.sms.get(to) ?? []), input.Message ?? '']);
    res.writeHead(200);
    res.end(
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
        `<MessageId>${randomUUID()}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}

/** The login service: a key set served over HTTPS on loopback, and access tokens signed with its key. */
export interface LoginService {
  readonly jwksUrl: string;
  /** The self-signed certificate of the key-set server (PEM), for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** Requests the key-set server answered. */
  readonly fetches: () => number;
  signAccessToken(uid: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The stage config takes only an https `jwksUrl` (lib/stage-config.ts,
 * httpsUrl: loopback included), so the key set is served over TLS with a
 * certificate made here for 127.0.0.1 (selfsigned: no openssl binary needed).
 */
export async function startLoginService(dir: string, issuer: string): Promise<LoginService> {
  const caFile = path.join(dir, 'jwks-cert.pem');
  const tls = await generateCertificate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(caFile, tls.cert);

  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  let fetches = 0;
  const server = createHttpsServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    fetches++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  const host = await listen(server);
  return {
    jwksUrl: `https://${host}/.well-known/jwks.json`,
    caFile,
    fetches: () => fetches,
    signAccessToken: (uid) =>
      new SignJWT({ uid, type: 'AccessToken' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(issuer).setIssuedAt().setExpirationTime('1h').sign(privateKey),
    close: () => close(server),
  };
}
