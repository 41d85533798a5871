/**
 * All configuration the functions read, from environment variables, in one
 * place. Each reader throws at cold start when something it needs is missing
 * or malformed, so a misconfigured function fails at once and loudly instead
 * of answering wrongly. The variables, their rules and defaults are those of
 * functions/tunables.ts; the rules themselves live in the domain.
 */
import type { CodeSettings } from './domain/code-rules';
import type { SendLimits } from './domain/send-limits';
import { windowReplayProblem, type SignatureRules, type SignatureSettings } from './domain/signature-rules';
import type { UserProvisioning } from './domain/user-provisioning';
import {
  BINDINGS,
  CODE_SETTINGS,
  POWERTOOLS,
  SEND_LIMITS,
  SIGNATURE_SETTINGS,
  SMS_SENDER,
  STORAGE,
  TOKEN_KEYS,
  USERS,
  type PhoneLinksMode,
  type SecretVariables,
  type SmsSenderSettings,
  type Tunable,
  type TunablesOf,
  ValueRefused,
} from './tunables';

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A tunable's value: its default when unset or blank, else its text by its rule. */
export function readTunable<T>(env: Env, tunable: Tunable<T>): T {
  const raw = env[tunable.env]?.trim();
  if (!raw) return tunable.default;
  try {
    return tunable.rule.parse(raw);
  } catch (error) {
    if (error instanceof ValueRefused) throw new ConfigError(`${tunable.env} ${error.message}`);
    throw error;
  }
}

/** Every tunable of a group, into the values the functions use. */
export function readTunables<T>(env: Env, group: TunablesOf<T>): T {
  const values = {} as Record<keyof T, unknown>;
  for (const field of Object.keys(group) as (keyof T)[]) values[field] = readTunable(env, group[field]);
  return values as T;
}

function requireString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`Missing environment variable ${name}`);
  return value;
}

/** Table names come one by one: each function is handed only the tables it uses. */
export const readCodesTableName = (env: Env = process.env): string => requireString(env, BINDINGS.codesTable);
export const readUsersTableName = (env: Env = process.env): string => requireString(env, BINDINGS.usersTable);

/** Set locally and in tests to reach DynamoDB Local; unset in the cloud. */
export const readDynamoDbEndpoint = (env: Env = process.env): string | undefined => env[BINDINGS.dynamoDbEndpoint] || undefined;

/**
 * A secret given directly (local development, tests) or the ARN of the
 * Secrets Manager secret that holds it (the cloud: never in the template nor
 * in a plain environment variable).
 */
export type SecretSource = { readonly value: string } | { readonly secretArn: string };

function readSecretSource(env: Env, names: SecretVariables): SecretSource {
  const arn = env[names.secretArn]?.trim();
  if (arn) return { secretArn: arn };
  const value = env[names.value];
  if (value) return { value };
  throw new ConfigError(`Set ${names.secretArn} (a Secrets Manager secret) or ${names.value}`);
}

/** How long a secret read from Secrets Manager is kept before it is read again (Powertools Parameters' own variable). */
export const readSecretsMaxAgeSeconds = (env: Env = process.env): number => readTunable(env, POWERTOOLS.secretsMaxAgeSeconds);

/** The key codes are stored under (HMAC pepper). */
export const readPepperSource = (env: Env = process.env): SecretSource => readSecretSource(env, BINDINGS.codePepper);

/** JSON `{"<userDomain>": "<secret>"}`. */
export const readUserDomainSecretsSource = (env: Env = process.env): SecretSource => readSecretSource(env, BINDINGS.userDomainSecrets);

export const readCodeSettings = (env: Env = process.env): CodeSettings => readTunables(env, CODE_SETTINGS);

export const readSendLimits = (env: Env = process.env): SendLimits => readTunables(env, SEND_LIMITS);

/** The signature window, refused when it would let a signed request be replayed, and the user domains served. */
export function readSignatureSettings(env: Env = process.env): SignatureSettings {
  const settings = readTunables(env, SIGNATURE_SETTINGS);
  const names = { maxClockSkewSeconds: SIGNATURE_SETTINGS.maxClockSkewSeconds.env, nonceTtlSeconds: SIGNATURE_SETTINGS.nonceTtlSeconds.env };
  const problem = windowReplayProblem(settings, names, String(settings.nonceTtlSeconds));
  if (problem !== undefined) throw new ConfigError(problem);
  return settings;
}

/** The served domains' secrets, from the JSON `{"<userDomain>": "<secret>"}`; each served domain needs one. */
export function signatureRules(settings: SignatureSettings, secretsJson: string): SignatureRules {
  const shape = 'the user-domain secrets must be a JSON object {"<userDomain>": "<secret>"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretsJson);
  } catch {
    throw new ConfigError(shape);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(shape);
  const all = new Map(Object.entries(parsed));
  const served = settings.userDomains ?? [...all.keys()];
  const secrets = new Map<string, string>();
  for (const domain of served) {
    const secret = all.get(domain);
    if (typeof secret !== 'string' || secret === '') throw new ConfigError(`No secret for user domain "${domain}"`);
    secrets.set(domain, secret);
  }
  if (secrets.size === 0) throw new ConfigError('No user domain is served: the user-domain secrets are empty');
  const { maxClockSkewSeconds, nonceTtlSeconds } = settings;
  return { userDomainSecrets: secrets, maxClockSkewSeconds, nonceTtlSeconds };
}

export type TokenKeySource = { readonly jwksUrl: string } | { readonly jwksJson: string };

export interface AuthConfig {
  readonly keys: TokenKeySource;
  /** Checked when set: the `iss` the platform's login puts in its tokens. */
  readonly issuer: string | undefined;
}

/** The login service's key set, or else an inline one; the inline one is read only when there is no URL. */
export function readAuthConfig(env: Env = process.env): AuthConfig {
  const issuer = readTunable(env, TOKEN_KEYS.issuer);
  const jwksUrl = readTunable(env, TOKEN_KEYS.jwksUrl);
  if (jwksUrl !== undefined) return { keys: { jwksUrl }, issuer };
  const jwksJson = readTunable(env, TOKEN_KEYS.jwksJson);
  if (jwksJson !== undefined) return { keys: { jwksJson }, issuer };
  throw new ConfigError(`Set ${TOKEN_KEYS.jwksUrl.env} (the login service key set) or ${TOKEN_KEYS.jwksJson.env} (an inline key set)`);
}

export const readSmsSenderSettings = (env: Env = process.env): SmsSenderSettings => readTunables(env, SMS_SENDER);

export const readUserProvisioning = (env: Env = process.env): UserProvisioning => readTunable(env, USERS.provisioning);

/** How long the tombstone of an erased user is kept before it is removed (by TTL, or on a multi-Region table by the reconciler). */
export const readErasedUserRetentionDays = (env: Env = process.env): number => readTunable(env, USERS.erasedRetentionDays);

export const readPhoneLinksMode = (env: Env = process.env): PhoneLinksMode => readTunable(env, STORAGE.phoneLinksMode);
