import { randomBytes } from 'node:crypto';
import type { ClientSettings } from '../functions/adapters/aws/client-config';
import { DynamoCodeIssuer } from '../functions/adapters/dynamodb/code-issuer';
import { DynamoUsers } from '../functions/adapters/dynamodb/users';
import { OutboxSmsSender } from '../functions/adapters/sms/outbox-sms-sender';
import { systemClock, type Clock } from '../functions/clock';
import { readCodesTableName, readTunable, readUsersTableName } from '../functions/config';
import { WIRES } from '../functions/entry/wires';
import { createWiring, phoneLinks } from '../functions/entry/wiring';
import type { HttpHandler } from '../functions/http/handlers';
import { HTTP_FUNCTION_NAMES, type FunctionName, type HttpFunctionName } from '../functions/http/routes';
import { BINDINGS, SIGNATURE_SETTINGS, TOKEN_KEYS } from '../functions/tunables';
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
  // By the functions' own rule: https, or http to this machine only (a login service run beside it).
  const jwksUrl = readTunable(env, TOKEN_KEYS.jwksUrl);
  const tokenIssuerName = readTunable(env, TOKEN_KEYS.issuer);
  const tokenKeys: LocalTokenKeys = jwksUrl ? { source: 'jwks', jwksUrl, issuer: tokenIssuerName } : { source: 'local', issuer: tokenIssuerName };
  const tokenIssuer: LocalTokenIssuer = jwksUrl ? tokensFromLoginServiceOnly(jwksUrl) : await createLocalTokenIssuer({ issuer: tokenIssuerName });
  const config: Env = {
    [BINDINGS.codesTable]: LOCAL_TABLES.codesTableName,
    [BINDINGS.usersTable]: LOCAL_TABLES.usersTableName,
    // Codes live minutes; a fresh pepper per start only voids codes in flight.
    [BINDINGS.codePepper.value]: randomBytes(32).toString('hex'),
    ...env,
    // Locally the one user domain and its secret are the server's own; the key set too, unless JWKS_URL names one.
    [SIGNATURE_SETTINGS.userDomains.env]: options.userDomain,
    [BINDINGS.userDomainSecrets.value]: JSON.stringify({ [options.userDomain]: options.userDomainSecret }),
    [BINDINGS.userDomainSecrets.secretArn]: '',
    [BINDINGS.codePepper.secretArn]: '',
    [TOKEN_KEYS.jwksUrl.env]: jwksUrl ?? '',
    [TOKEN_KEYS.jwksJson.env]: jwksUrl ? '' : tokenIssuer.jwksJson,
    [TOKEN_KEYS.issuer.env]: tokenIssuerName ?? '',
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
