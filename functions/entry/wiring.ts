import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JoseTokenVerifier } from '../adapters/auth/jose-token-verifier';
import type { ClientSettings } from '../adapters/aws/client-config';
import { createDocumentClient, createSecretsManagerClient, createSnsClient } from '../adapters/aws/clients';
import { OrderedPhoneLinks } from '../adapters/dynamodb/ordered-phone-links';
import { TransactionalPhoneLinks } from '../adapters/dynamodb/transactional-phone-links';
import { DynamoUsers } from '../adapters/dynamodb/users';
import { DynamoVerificationCodes } from '../adapters/dynamodb/verification-codes';
import { cachedSecret } from '../adapters/secrets/cached-secret';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender';
import { systemClock, type Clock } from '../clock';
import {
  readAuthConfig,
  readCodeSettings,
  readCodesTableName,
  readDynamoDbEndpoint,
  readPepperSource,
  readPhoneLinksMode,
  readSecretsMaxAgeSeconds,
  readSmsSenderSettings,
  readUsersTableName,
  type SecretSource,
} from '../config';
import type { CodeRules } from '../domain/code-rules';
import type { PhoneLinks, SmsSender, TokenVerifier } from '../ports';

/**
 * What the functions are built from, for the cloud and for `npm start`
 * alike: the settings (read and checked at once, at the cold start), the
 * SDK clients (functions/adapters/aws/clients.ts, each made once per
 * container) and the adapters over them. Each function's wire (wires.ts,
 * link-reconciler-wire.ts) takes what it needs from here, and reads only
 * the tables its function is bound to; a Lambda entry calls its wire with
 * the function's environment, the local app calls every wire with its own
 * settings and overrides.
 */

type Env = Record<string, string | undefined>;

export interface WiringOptions {
  /** The settings, by the variables the stack sets. Default: the process's environment. */
  readonly env?: Env;
  /** DynamoDB Local: its endpoint (default DYNAMODB_ENDPOINT, unset in the cloud) and client settings (default the cloud's). */
  readonly dynamoDb?: { readonly endpoint?: string; readonly settings?: ClientSettings };
  /** How codes reach the phone. Default: SNS. */
  readonly sms?: SmsSender;
  readonly clock?: Clock;
}

/** The settings and the clients of one container: a Lambda execution environment, or the local app. */
export interface Wiring {
  readonly env: Env;
  readonly clock: Clock;
  readonly db: DynamoDBDocumentClient;
  readonly sms: SmsSender | undefined;
  /** The value `make` gives the first time `key` is asked for, and that same value after. */
  once<T>(key: string, make: () => T): T;
}

export function createWiring(options: WiringOptions = {}): Wiring {
  const env = options.env ?? process.env;
  const made = new Map<string, unknown>();
  return {
    env,
    clock: options.clock ?? systemClock,
    db: createDocumentClient(options.dynamoDb?.endpoint ?? readDynamoDbEndpoint(env), options.dynamoDb?.settings),
    sms: options.sms,
    once: <T>(key: string, make: () => T): T => {
      if (!made.has(key)) made.set(key, make());
      return made.get(key) as T;
    },
  };
}

/** A secret that starts loading now (the cold start overlaps it), from its value or from Secrets Manager. */
export const secret = (w: Wiring, source: SecretSource): (() => Promise<string>) =>
  cachedSecret(source, () => w.once('secretsManager', createSecretsManagerClient), readSecretsMaxAgeSeconds(w.env));

/** The code rules, with the pepper, which starts loading now. */
export const codeRules = (w: Wiring): (() => Promise<CodeRules>) => {
  const settings = readCodeSettings(w.env);
  const pepper = secret(w, readPepperSource(w.env));
  return async () => ({ ...settings, pepper: await pepper() });
};

export const tokenVerifier = (w: Wiring): TokenVerifier => w.once('tokens', () => new JoseTokenVerifier(readAuthConfig(w.env)));

export const users = (w: Wiring): DynamoUsers => new DynamoUsers(w.db, readUsersTableName(w.env));

export const verificationCodes = (w: Wiring): DynamoVerificationCodes => new DynamoVerificationCodes(w.db, readCodesTableName(w.env));

/**
 * The phone links PHONE_LINKS_MODE names: one transaction per link, or
 * ordered writes for a multi-Region table. The codes table only where a
 * link consumes a code (not the admin function's).
 */
export function phoneLinks(w: Wiring, uses: { codes: boolean }): PhoneLinks {
  const tables = { usersTableName: readUsersTableName(w.env), codesTableName: uses.codes ? readCodesTableName(w.env) : undefined };
  return readPhoneLinksMode(w.env) === 'ordered-writes' ? new OrderedPhoneLinks(w.db, tables) : new TransactionalPhoneLinks(w.db, tables);
}

/** How codes are delivered: the one place a way of delivering them is chosen. */
export const smsSender = (w: Wiring): SmsSender => w.sms ?? new SnsSmsSender(readSmsSenderSettings(w.env), createSnsClient());
