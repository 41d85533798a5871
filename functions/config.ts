/**
 * All configuration the functions read, from environment variables, in one
 * place. Each reader throws at cold start when something it needs is missing
 * or malformed, so a misconfigured function fails at once and loudly instead
 * of answering wrongly.
 */

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function requireString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`Missing environment variable ${name}`);
  return value;
}

function readInteger(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be a whole number >= ${min}, got "${raw}"`);
  }
  return value;
}

function readCallingCode(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim().replace(/^(\+|00)/, '');
  if (!raw) return fallback;
  if (!/^[1-9]\d{0,2}$/.test(raw)) throw new ConfigError(`${name} must be a country calling code such as 86, got "${env[name]}"`);
  return raw;
}

export interface TablesConfig {
  readonly codesTableName: string;
  readonly usersTableName: string;
  /** Set locally and in tests to reach DynamoDB Local; unset in the cloud. */
  readonly dynamoDbEndpoint: string | undefined;
}

export const readTablesConfig = (env: Env = process.env): TablesConfig => ({
  codesTableName: requireString(env, 'CODES_TABLE_NAME'),
  usersTableName: requireString(env, 'USERS_TABLE_NAME'),
  dynamoDbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
});

export interface CodeRules {
  /** Key of the HMAC that codes are stored under. */
  readonly pepper: string;
  readonly codeTtlSeconds: number;
  readonly maxWrongTries: number;
  /** Calling code that applies where `internationalCode` is optional and absent. */
  readonly domesticCallingCode: string;
}

export const readCodeRules = (env: Env = process.env): CodeRules => ({
  pepper: requireString(env, 'CODE_PEPPER'),
  codeTtlSeconds: readInteger(env, 'CODE_TTL_SECONDS', 300, 1),
  maxWrongTries: readInteger(env, 'CODE_MAX_WRONG_TRIES', 5, 1),
  domesticCallingCode: readCallingCode(env, 'DOMESTIC_CALLING_CODE', '86'),
});

export interface SendLimits {
  readonly cooldownSeconds: number;
  readonly maxPerPhonePerDay: number;
  readonly maxPerIpPerHour: number;
  readonly maxPerMinute: number;
}

export const readSendLimits = (env: Env = process.env): SendLimits => ({
  cooldownSeconds: readInteger(env, 'SMS_COOLDOWN_SECONDS', 60, 0),
  maxPerPhonePerDay: readInteger(env, 'SMS_MAX_PER_PHONE_PER_DAY', 10, 1),
  maxPerIpPerHour: readInteger(env, 'SMS_MAX_PER_IP_PER_HOUR', 50, 1),
  maxPerMinute: readInteger(env, 'SMS_MAX_PER_MINUTE', 300, 1),
});

export interface SignatureRules {
  /** User domain -> its secret. */
  readonly userDomainSecrets: ReadonlyMap<string, string>;
  readonly maxClockSkewSeconds: number;
  /** How long a used `random` is remembered per user domain. */
  readonly nonceTtlSeconds: number;
}

export function readSignatureRules(env: Env = process.env): SignatureRules {
  const raw = requireString(env, 'USER_DOMAIN_SECRETS');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('USER_DOMAIN_SECRETS must be a JSON object {"<userDomain>": "<secret>"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('USER_DOMAIN_SECRETS must be a JSON object {"<userDomain>": "<secret>"}');
  }
  const secrets = new Map<string, string>();
  for (const [domain, secret] of Object.entries(parsed)) {
    if (typeof secret !== 'string' || secret === '') throw new ConfigError(`USER_DOMAIN_SECRETS: empty secret for ${domain}`);
    secrets.set(domain, secret);
  }
  if (secrets.size === 0) throw new ConfigError('USER_DOMAIN_SECRETS names no user domain');
  return {
    userDomainSecrets: secrets,
    maxClockSkewSeconds: readInteger(env, 'SIGNATURE_MAX_SKEW_SECONDS', 600, 1),
    nonceTtlSeconds: readInteger(env, 'NONCE_TTL_SECONDS', 1200, 1),
  };
}

export type TokenKeySource = { readonly jwksUrl: string } | { readonly jwksJson: string };

export interface AuthConfig {
  readonly keys: TokenKeySource;
  /** Checked when set: the `iss` the platform's login puts in its tokens. */
  readonly issuer: string | undefined;
}

export function readAuthConfig(env: Env = process.env): AuthConfig {
  const issuer = env.JWT_ISSUER || undefined;
  if (env.JWKS_URL) return { keys: { jwksUrl: env.JWKS_URL }, issuer };
  if (env.JWKS_JSON) return { keys: { jwksJson: env.JWKS_JSON }, issuer };
  throw new ConfigError('Set JWKS_URL (the login service key set) or JWKS_JSON (an inline key set)');
}

export interface SmsConfig {
  /** Alphanumeric sender id where the destination country supports one. */
  readonly senderId: string | undefined;
}

export const readSmsConfig = (env: Env = process.env): SmsConfig => ({ senderId: env.SMS_SENDER_ID || undefined });
