import { randomBytes } from 'node:crypto';
import type { ClientSettings } from '../functions/adapters/aws/client-config';
import { DynamoCodeIssuer } from '../functions/adapters/dynamodb/code-issuer';
import { DynamoUsers } from '../functions/adapters/dynamodb/users';
import { OutboxSmsSender } from '../functions/adapters/sms/outbox-sms-sender';
import { systemClock, type Clock } from '../functions/clock';
import { ConfigError, readCodesTableName, readUsersTableName } from '../functions/config';
import { WIRES } from '../functions/entry/wires';
import { createWiring, phoneLinks } from '../functions/entry/wiring';
import type { HttpHandler } from '../functions/http/handlers';
import { HTTP_FUNCTION_NAMES, type FunctionName, type HttpFunctionName } from '../functions/http/routes';
import { createLocalTokenIssuer, tokensFromLoginServiceOnly, type LocalTokenIssuer } from './local-keys';

type Env = Record<string, string | undefined>;

export interface LocalAppOptions {
  /** DynamoDB Local's endpoint. */
  readonly endpoint: string;
  readonly userDomain: string;
  readonly userDomainSecret: string;
  /** Limits and rules, read with the same variables as in the cloud. */
  readonly env?: Env;
  readonly clock?: Clock;
  /** Where the outbox prints each SMS. */
  readonly print?: (line: string) => void;
  /** DynamoDB client settings: the cloud's unless given (the local server passes LOCAL_SERVER_DYNAMODB_SETTINGS). */
  readonly dynamoDbSettings?: ClientSettings;
}

export type LocalApp = Awaited<ReturnType<typeof createLocalApp>>;

export const LOCAL_TABLES = { codesTableName: 'phone-link-codes', usersTableName: 'phone-link-users' };

/**
 * What access tokens are verified against: the key the local app makes at
 * start (and signs its own tokens with), or a login service's key set at
 * JWKS_URL, exactly as a deployment does.
 */
export type LocalTokenKeys =
  | { readonly source: 'local'; readonly issuer: string | undefined }
  | { readonly source: 'jwks'; readonly jwksUrl: string; readonly issuer: string | undefined };

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * JWKS_URL as the local app takes it: https anywhere, plain http only to
 * this machine (a login service run beside it). A key set fetched in clear
 * over a network could be swapped on the way.
 */
function readLocalJwksUrl(env: Env): string | undefined {
  const raw = env.JWKS_URL?.trim();
  if (!raw) return undefined;
  const refusal = new ConfigError(`JWKS_URL must be an https URL, or http to 127.0.0.1, localhost or [::1]; got "${raw}"`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refusal;
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname))) return url.href;
  throw refusal;
}

/**
 * Every function, wired by the same wires as its Lambda entry
 * (functions/entry/wires.ts), with local overrides: DynamoDB Local, the
 * outbox instead of SNS, secrets as values, and a key pair made at start-up
 * instead of the login service's key set (unless JWKS_URL names one). The
 * local server and the integration tests both run this, so they exercise
 * exactly what deploys.
 */
export async function createLocalApp(options: LocalAppOptions) {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const jwksUrl = readLocalJwksUrl(env);
  const tokenIssuerName = env.JWT_ISSUER?.trim() || undefined;
  const tokenKeys: LocalTokenKeys = jwksUrl ? { source: 'jwks', jwksUrl, issuer: tokenIssuerName } : { source: 'local', issuer: tokenIssuerName };
  const tokenIssuer: LocalTokenIssuer = jwksUrl ? tokensFromLoginServiceOnly(jwksUrl) : await createLocalTokenIssuer({ issuer: tokenIssuerName });
  const config: Env = {
    CODES_TABLE_NAME: LOCAL_TABLES.codesTableName,
    USERS_TABLE_NAME: LOCAL_TABLES.usersTableName,
    // Codes live minutes; a fresh pepper per start only voids codes in flight.
    CODE_PEPPER: randomBytes(32).toString('hex'),
    ...env,
    // Locally the one user domain and its secret are the server's own; the key set too, unless JWKS_URL names one.
    USER_DOMAINS: options.userDomain,
    USER_DOMAIN_SECRETS: JSON.stringify({ [options.userDomain]: options.userDomainSecret }),
    USER_DOMAIN_SECRETS_SECRET_ARN: '',
    CODE_PEPPER_SECRET_ARN: '',
    JWKS_URL: jwksUrl ?? '',
    JWKS_JSON: jwksUrl ? '' : tokenIssuer.jwksJson,
    JWT_ISSUER: tokenIssuerName ?? '',
  };
  const outbox = new OutboxSmsSender(options.print, () => clock.now());
  const wiring = createWiring({ env: config, clock, sms: outbox, dynamoDb: { endpoint: options.endpoint, settings: options.dynamoDbSettings } });
  const wired = <F extends FunctionName>(name: F) => WIRES[name](wiring) as ReturnType<(typeof WIRES)[F]>;
  const handlers = Object.fromEntries(HTTP_FUNCTION_NAMES.map((name) => [name, wired(name)])) as Record<HttpFunctionName, HttpHandler>;

  return {
    tables: { codesTableName: readCodesTableName(config), usersTableName: readUsersTableName(config) },
    db: wiring.db,
    // For the local routes and the tests: the same adapters as the functions', on the same client.
    users: new DynamoUsers(wiring.db, readUsersTableName(config)),
    links: phoneLinks(wiring, { codes: true }),
    issuer: new DynamoCodeIssuer(wiring.db, readCodesTableName(config)),
    outbox,
    tokenKeys,
    tokenIssuer,
    handlers,
    /** One pass of the link reconciler, as its schedule runs it in a deployment that writes links in order. */
    reconcileLinks: wired('linkReconciler'),
  };
}

export type { HttpHandler };
