import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { HttpResult } from '../functions/http/envelope';
import { JoseTokenVerifier } from '../functions/adapters/auth/jose-token-verifier';
import { OutboxSmsSender } from '../functions/adapters/sms/outbox-sms-sender';
import { systemClock, type Clock } from '../functions/clock';
import { readAuthConfig, readCodeRules, readSendLimits, readSignatureRules, readTablesConfig } from '../functions/config';
import { dynamoAdapters } from '../functions/entry/wiring';
import { createRelationPhoneHandler, createSendPhoneSmsCodeHandler, createUserInfoHandler } from '../functions/http/handlers';
import { createLocalTokenIssuer, type LocalTokenIssuer } from './local-keys';

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
}

export type LocalApp = Awaited<ReturnType<typeof createLocalApp>>;

export const LOCAL_TABLES = { codesTableName: 'phone-link-codes', usersTableName: 'phone-link-users' };

/**
 * The cloud handlers, wired for local development: DynamoDB Local, the
 * outbox instead of SNS, and a key pair made at start-up instead of the
 * login service's key set. The local server and the integration tests both
 * run this, so they exercise exactly what deploys.
 */
export async function createLocalApp(options: LocalAppOptions) {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const tokenIssuer: LocalTokenIssuer = await createLocalTokenIssuer();
  const config: Env = {
    CODES_TABLE_NAME: LOCAL_TABLES.codesTableName,
    USERS_TABLE_NAME: LOCAL_TABLES.usersTableName,
    // Codes live minutes; a fresh pepper per start only voids codes in flight.
    CODE_PEPPER: randomBytes(32).toString('hex'),
    ...env,
    DYNAMODB_ENDPOINT: options.endpoint,
    USER_DOMAIN_SECRETS: JSON.stringify({ [options.userDomain]: options.userDomainSecret }),
    JWKS_JSON: tokenIssuer.jwksJson,
    JWKS_URL: '',
  };
  const tables = readTablesConfig(config);
  const { db, users, codes } = dynamoAdapters(tables);
  const tokens = new JoseTokenVerifier(readAuthConfig(config));
  const codeRules = readCodeRules(config);
  const outbox = new OutboxSmsSender(options.print, () => clock.now());

  return {
    tables,
    db,
    users,
    codes,
    outbox,
    tokenIssuer,
    handlers: asHttpHandlers({
      sendPhoneSmsCode: createSendPhoneSmsCodeHandler({
        codes,
        sms: outbox,
        clock,
        codeRules,
        sendLimits: readSendLimits(config),
        signatureRules: readSignatureRules(config),
      }),
      relationPhone: createRelationPhoneHandler({ users, codes, tokens, clock, codeRules }),
      userInfo: createUserInfoHandler({ users, tokens }),
    }),
  };
}

/** What API Gateway calls: an event and a Lambda context in, the HTTP result out. */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult>;

// The middy handlers type their context with what the auth middleware adds
// (`uid`); callers hand in a plain Lambda context, as Lambda does.
const asHttpHandlers = <T extends Record<string, unknown>>(handlers: T) =>
  handlers as unknown as { [K in keyof T]: HttpHandler };
