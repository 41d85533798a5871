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

/** Table names come one by one: each function is handed only the tables it uses. */
export const readCodesTableName = (env: Env = process.env): string => requireString(env, 'CODES_TABLE_NAME');
export const readUsersTableName = (env: Env = process.env): string => requireString(env, 'USERS_TABLE_NAME');

/** Set locally and in tests to reach DynamoDB Local; unset in the cloud. */
export const readDynamoDbEndpoint = (env: Env = process.env): string | undefined => env.DYNAMODB_ENDPOINT || undefined;

/**
 * A secret given directly (local development, tests) or the ARN of the
 * Secrets Manager secret that holds it (the cloud: never in the template nor
 * in a plain environment variable).
 */
export type SecretSource = { readonly value: string } | { readonly secretArn: string };

function readSecretSource(env: Env, valueName: string, arnName: string): SecretSource {
  const arn = env[arnName]?.trim();
  if (arn) return { secretArn: arn };
  const value = env[valueName];
  if (value) return { value };
  throw new ConfigError(`Set ${arnName} (a Secrets Manager secret) or ${valueName}`);
}

/**
 * How long a secret read from Secrets Manager is kept before it is read
 * again: a rotated secret is picked up within this time, without a
 * redeploy. Powertools Parameters' own variable.
 */
export const readSecretsMaxAgeSeconds = (env: Env = process.env): number => readInteger(env, 'POWERTOOLS_PARAMETERS_MAX_AGE', 300, 0);

/** The key codes are stored under (HMAC pepper). */
export const readPepperSource = (env: Env = process.env): SecretSource =>
  readSecretSource(env, 'CODE_PEPPER', 'CODE_PEPPER_SECRET_ARN');

/** JSON `{"<userDomain>": "<secret>"}`. */
export const readUserDomainSecretsSource = (env: Env = process.env): SecretSource =>
  readSecretSource(env, 'USER_DOMAIN_SECRETS', 'USER_DOMAIN_SECRETS_SECRET_ARN');

export interface CodeSettings {
  readonly codeTtlSeconds: number;
  readonly maxWrongTries: number;
  /** Calling code that applies where `internationalCode` is optional and absent. */
  readonly domesticCallingCode: string;
  /** ISO 3166 alpha-2 countries SMS may go to; undefined = all. */
  readonly allowedCountries: ReadonlySet<string> | undefined;
}

export interface CodeRules extends CodeSettings {
  /** Key of the HMAC that codes are stored under. */
  readonly pepper: string;
}

export const readCodeSettings = (env: Env = process.env): CodeSettings => ({
  codeTtlSeconds: readInteger(env, 'CODE_TTL_SECONDS', 300, 1),
  maxWrongTries: readInteger(env, 'CODE_MAX_WRONG_TRIES', 5, 1),
  domesticCallingCode: readCallingCode(env, 'DOMESTIC_CALLING_CODE', '86'),
  allowedCountries: readCountries(env, 'SMS_ALLOWED_COUNTRIES'),
});

function readCountries(env: Env, name: string): ReadonlySet<string> | undefined {
  const list = readList(env, name);
  if (!list) return undefined;
  const bad = list.find((country) => !/^[A-Z]{2}$/.test(country));
  if (bad !== undefined) throw new ConfigError(`${name} takes ISO 3166 alpha-2 codes such as CN,US; got "${bad}"`);
  return new Set(list);
}

const readList = (env: Env, name: string): string[] | undefined => {
  const items = (env[name] ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
};

export interface SendLimits {
  readonly cooldownSeconds: number;
  readonly maxPerPhonePerDay: number;
  readonly maxPerIpPerHour: number;
  /** The global breaker; 0 refuses every send. */
  readonly maxPerMinute: number;
  /** The breaker of each destination country; 0 refuses every send. */
  readonly maxPerCountryPerMinute: number;
}

export const readSendLimits = (env: Env = process.env): SendLimits => ({
  cooldownSeconds: readInteger(env, 'SMS_COOLDOWN_SECONDS', 60, 0),
  maxPerPhonePerDay: readInteger(env, 'SMS_MAX_PER_PHONE_PER_DAY', 10, 1),
  maxPerIpPerHour: readInteger(env, 'SMS_MAX_PER_IP_PER_HOUR', 50, 1),
  maxPerMinute: readInteger(env, 'SMS_MAX_PER_MINUTE', 300, 0),
  maxPerCountryPerMinute: readInteger(env, 'SMS_MAX_PER_COUNTRY_PER_MINUTE', 100, 0),
});

export interface SignatureSettings {
  /** The user domains this deployment serves; undefined = every domain with a secret. */
  readonly userDomains: readonly string[] | undefined;
  readonly maxClockSkewSeconds: number;
  /** How long a used `random` is remembered per user domain. */
  readonly nonceTtlSeconds: number;
}

export interface SignatureRules extends Omit<SignatureSettings, 'userDomains'> {
  /** User domain -> its secret, for the domains served. */
  readonly userDomainSecrets: ReadonlyMap<string, string>;
}

/** The contract's defaults; lib/stage-config.ts checks context that sets only one of them against the other. */
export const SIGNATURE_DEFAULTS = { maxClockSkewSeconds: 600, nonceTtlSeconds: 1200 } as const;

/**
 * A `ts` is accepted from maxSkew before to maxSkew after the server clock,
 * so one signed request stays valid for 2 × maxSkew. A used `random`
 * forgotten sooner could be sent again with its original signature.
 */
export const minimumNonceTtlSeconds = (maxClockSkewSeconds: number): number => 2 * maxClockSkewSeconds;

export function readSignatureSettings(env: Env = process.env): SignatureSettings {
  const maxClockSkewSeconds = readInteger(env, 'SIGNATURE_MAX_SKEW_SECONDS', SIGNATURE_DEFAULTS.maxClockSkewSeconds, 1);
  const nonceTtlSeconds = readInteger(env, 'NONCE_TTL_SECONDS', SIGNATURE_DEFAULTS.nonceTtlSeconds, 1);
  const minimum = minimumNonceTtlSeconds(maxClockSkewSeconds);
  if (nonceTtlSeconds < minimum) {
    throw new ConfigError(
      `NONCE_TTL_SECONDS must be at least 2 × SIGNATURE_MAX_SKEW_SECONDS (${minimum}), got ${nonceTtlSeconds}: ` +
        'a signed request stays valid that long, and a random forgotten sooner can be replayed',
    );
  }
  return { userDomains: readList(env, 'USER_DOMAINS'), maxClockSkewSeconds, nonceTtlSeconds };
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

export function readAuthConfig(env: Env = process.env): AuthConfig {
  const issuer = env.JWT_ISSUER || undefined;
  if (env.JWKS_URL) return { keys: { jwksUrl: env.JWKS_URL }, issuer };
  if (env.JWKS_JSON) return { keys: { jwksJson: inlineKeySet(env.JWKS_JSON) }, issuer };
  throw new ConfigError('Set JWKS_URL (the login service key set) or JWKS_JSON (an inline key set)');
}

/** An inline key set must hold keys: one without any would refuse every token (5032) and log every app out. */
function inlineKeySet(json: string): string {
  let keys: unknown;
  try {
    keys = (JSON.parse(json) as { keys?: unknown } | null)?.keys;
  } catch {
    throw new ConfigError('JWKS_JSON must be a JSON key set {"keys": [...]}');
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError('JWKS_JSON must be a key set with at least one key, {"keys": [...]}');
  return json;
}

export interface SmsConfig {
  /** Alphanumeric sender id where the destination country supports one. */
  readonly senderId: string | undefined;
}

export const readSmsConfig = (env: Env = process.env): SmsConfig => ({ senderId: env.SMS_SENDER_ID || undefined });

/**
 * Whether a valid token is enough for this service to know its user
 * (`on-first-use`), or the user must have been registered through the admin
 * interface or the import first (`registered`).
 */
export type UserProvisioning = 'on-first-use' | 'registered';

export function readUserProvisioning(env: Env = process.env): UserProvisioning {
  const raw = env.USER_PROVISIONING?.trim();
  if (!raw) return 'on-first-use';
  if (raw === 'on-first-use' || raw === 'registered') return raw;
  throw new ConfigError(`USER_PROVISIONING must be on-first-use or registered, got "${raw}"`);
}

/** How long the tombstone of an erased user is kept before it is removed (by TTL, or on a multi-Region table by the reconciler). */
export const readErasedUserRetentionDays = (env: Env = process.env): number => readInteger(env, 'ERASED_USER_RETENTION_DAYS', 30, 1);

/**
 * How phone links are written: `transactions` (one TransactWriteItems per
 * link, a single-Region table) or `ordered-writes` (conditional writes in
 * order with compensation, for multi-Region strongly consistent global
 * tables, which refuse transactions).
 */
export const PHONE_LINKS_MODES = ['transactions', 'ordered-writes'] as const;
export type PhoneLinksMode = (typeof PHONE_LINKS_MODES)[number];

export function readPhoneLinksMode(env: Env = process.env): PhoneLinksMode {
  const raw = env.PHONE_LINKS_MODE?.trim();
  if (!raw) return 'transactions';
  if ((PHONE_LINKS_MODES as readonly string[]).includes(raw)) return raw as PhoneLinksMode;
  throw new ConfigError(`PHONE_LINKS_MODE must be ${PHONE_LINKS_MODES.join(' or ')}, got "${raw}"`);
}
