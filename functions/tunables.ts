import type { CodeSettings } from './domain/code-rules';
import { callingCodeOf, isoCodeMeantBy, smsCountries } from './domain/countries';
import type { SendLimits } from './domain/send-limits';
import type { SignatureSettings } from './domain/signature-rules';
import { USER_PROVISIONING_MODES, type UserProvisioning } from './domain/user-provisioning';

/**
 * Every setting of the functions, once: the environment variable they read
 * it from, the CDK context key a deployment sets it by (where the stage
 * exposes it), its rule, its default and what it means.
 * functions/config.ts reads the environment through it, lib/stage-config.ts
 * reads context through the same rules, and the stack writes each
 * function's environment by its names. README.md's "Configuration",
 * docs/DEPLOY.md's parameters and `npm start -- --help` are checked
 * against it (test/unit/tunables-docs.test.ts).
 *
 * A tunable belongs to a group typed by what the functions read it into
 * (SendLimits, CodeSettings...): the compiler asks for one entry per field,
 * and the readers and the stack take a group whole. A new tunable is a field
 * of its group's type and its entry here; the docs checks then ask for its
 * row in README.md (and in docs/DEPLOY.md, where the stage exposes it).
 * Pure data and pure functions: CDK code imports it.
 *
 * First the rules, which the registry below is built from.
 */

// How the text of a setting becomes its value: one rule per kind of value,
// for an environment variable the functions read (functions/config.ts) and a
// context key `cdk synth` reads (lib/stage-config.ts) alike. A rule refuses
// with what it expected; the reader puts the setting's name in front:
// `SMS_MAX_PER_MINUTE must be a whole number >= 0, got "-1"`,
// `Context "smsMaxPerMinute" must be a whole number >= 0, got "-1"`.
// The rule factories are marked free of side effects (esbuild honours that
// within a file, hence here beside the registry), so a function's bundle
// keeps only the groups, and the rules, of the settings it reads.

/** A text a rule refuses; the message says what was expected, without the setting's name. */
export class ValueRefused extends Error {
  constructor(expected: string) {
    super(expected);
    this.name = 'ValueRefused';
  }
}

// Methods, not function properties: a rule of strings is then a rule of unknown values too, as a registry holding several kinds needs.
export interface ValueRule<T> {
  /** The value of a trimmed, non-empty text; throws ValueRefused. */
  parse(text: string): T;
  /** The text that parses back to the value: what the stack writes into a function's environment, and the docs show. */
  format(value: T): string;
}

/** Comma-separated items, each trimmed, empty ones dropped. */
const items = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Any text. */
export const text: ValueRule<string> = { parse: (raw) => raw, format: String };

/* @__NO_SIDE_EFFECTS__ */
export function wholeNumber(min: number): ValueRule<number> {
  return {
    parse: (raw) => {
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < min) throw new ValueRefused(`must be a whole number >= ${min}, got "${raw}"`);
      return value;
    },
    format: String,
  };
}

/** A number above `min`, decimals allowed (an amount of money). */
/* @__NO_SIDE_EFFECTS__ */
export function numberAbove(min: number): ValueRule<number> {
  return {
    parse: (raw) => {
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= min) throw new ValueRefused(`must be a number above ${min}, got "${raw}"`);
      return value;
    },
    format: String,
  };
}

/** One of the words given, exactly. */
/* @__NO_SIDE_EFFECTS__ */
export function oneOf<T extends string>(choices: readonly T[]): ValueRule<T> {
  return {
    parse: (raw) => {
      if (!(choices as readonly string[]).includes(raw)) throw new ValueRefused(`must be ${choices.join(' or ')}, got "${raw}"`);
      return raw as T;
    },
    format: String,
  };
}

/** A switch, by the two words that name its positions (`true`/`false`, `on`/`off`). */
/* @__NO_SIDE_EFFECTS__ */
export function flag(on: string, off: string): ValueRule<boolean> {
  return {
    parse: (raw) => {
      if (raw !== on && raw !== off) throw new ValueRefused(`must be ${on} or ${off}, got "${raw}"`);
      return raw === on;
    },
    format: (value) => (value ? on : off),
  };
}

/** A text the pattern matches; `expected` says what that is, in words. */
/* @__NO_SIDE_EFFECTS__ */
export function matching(pattern: RegExp, expected: string): ValueRule<string> {
  return {
    parse: (raw) => {
      if (!pattern.test(raw)) throw new ValueRefused(`must be ${expected}, got "${raw}"`);
      return raw;
    },
    format: String,
  };
}

/** `86`, `+86` or `0086` -> `86`: a calling code some country uses (domain/countries.ts), as requests give one. */
export const callingCode: ValueRule<string> = {
  parse: (raw) => callingCodeOf(raw) ?? refuse(`must be a country calling code such as 86, got "${raw}"`),
  format: String,
};

/**
 * ISO 3166 alpha-2 codes of countries SMS can go to (domain/countries.ts), in
 * either case: `UK` is refused, with the code it most likely means.
 */
export const countryList: ValueRule<ReadonlySet<string>> = {
  parse: (raw) => {
    const countries = items(raw).map((country) => country.toUpperCase());
    const bad = countries.find((country) => !smsCountries().has(country));
    if (countries.length === 0 || bad !== undefined) {
      const meant = bad === undefined ? undefined : isoCodeMeantBy(bad);
      refuse(`must be comma-separated ISO 3166 alpha-2 codes such as CN,HK; "${bad ?? raw}" is not one${meant ? ` (did you mean ${meant}?)` : ''}`);
    }
    return new Set(countries);
  },
  format: (countries) => [...countries].join(','),
};

// The platform's user domains look like `C.DM.5903.1`; commas separate them, so none may hold one.
const USER_DOMAIN = /^[\w.:-]+$/;

/** User domains, each once. */
export const userDomainList: ValueRule<readonly string[]> = {
  parse: (raw) => {
    const domains = items(raw);
    if (domains.length === 0 || !domains.every((domain) => USER_DOMAIN.test(domain))) {
      refuse(`must be comma-separated user domains such as C.DM.5903.1, got "${raw}"`);
    }
    return [...new Set(domains)];
  },
  format: (domains) => domains.join(','),
};

/** An https URL. */
export const httpsUrl: ValueRule<string> = {
  parse: (raw) => {
    if (urlOf(raw)?.protocol !== 'https:') refuse(`must be an https URL, got "${raw}"`);
    return raw;
  },
  format: String,
};

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Where a key set is fetched from: https anywhere, plain http only to this
 * machine (a login service run beside `npm start`). A key set fetched in
 * clear over a network could be swapped on the way.
 */
export const keySetUrl: ValueRule<string> = {
  parse: (raw) => {
    const url = urlOf(raw);
    if (url && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname)))) return url.href;
    return refuse(`must be an https URL, or http to 127.0.0.1, localhost or [::1]; got "${raw}"`);
  },
  format: String,
};

/** An inline key set; one without any key would refuse every token (5032) and log every app out. */
export const keySetJson: ValueRule<string> = {
  parse: (raw) => {
    let keys: unknown;
    try {
      keys = (JSON.parse(raw) as { keys?: unknown } | null)?.keys;
    } catch {
      refuse('must be a JSON key set {"keys": [...]}');
    }
    if (!Array.isArray(keys) || keys.length === 0) refuse('must be a key set with at least one key, {"keys": [...]}');
    return raw;
  },
  format: String,
};

/** Exact browser origins only (`https://app.example.com`): a wildcard would let any web page call the API. */
export const originList: ValueRule<readonly string[]> = {
  parse: (raw) => {
    const origins = items(raw);
    const bad = origins.find((origin) => {
      const url = urlOf(origin);
      return url?.origin !== origin || (url.protocol !== 'https:' && url.hostname !== 'localhost');
    });
    if (origins.length === 0 || bad !== undefined) refuse(`must be comma-separated origins such as https://app.example.com; "${bad ?? raw}" is not one`);
    return origins;
  },
  format: (origins) => origins.join(','),
};

/** Comma-separated, each item trimmed and kept, empty ones too (the caller judges the list as a whole). */
export const commaSeparated: ValueRule<readonly string[]> = {
  parse: (raw) => raw.split(',').map((item) => item.trim()),
  format: (values) => values.join(','),
};

function urlOf(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function refuse(expected: string): never {
  throw new ValueRefused(expected);
}

// The registry.

export interface Tunable<T> {
  /** The environment variable the functions read. */
  readonly env: string;
  /** The CDK context key a deployment sets it by; absent where the stage does not expose it. */
  readonly context?: string;
  /** How its text becomes its value. */
  readonly rule: ValueRule<NonNullable<T>>;
  /**
   * The stage's own rule, where a deployment allows less than the functions
   * do (they also run on this machine, under `npm start`).
   */
  readonly stageRule?: ValueRule<NonNullable<T>>;
  /** The value when unset or blank. */
  readonly default: T;
  /** What unset means, where the default is no value (`all`, `unchecked`). */
  readonly unset?: string;
  /** One line, for `npm start -- --help`. */
  readonly meaning: string;
}

/** A tunable for each field of T. */
export type TunablesOf<T> = { readonly [K in keyof T]-?: Tunable<T[K]> };

/** Codes: how long they live, how many wrong tries void one, which numbers they go to. */
export const CODE_SETTINGS: TunablesOf<CodeSettings> = {
  codeTtlSeconds: { env: 'CODE_TTL_SECONDS', context: 'codeTtlSeconds', rule: wholeNumber(1), default: 300, meaning: 'how long a code is valid' },
  maxWrongTries: { env: 'CODE_MAX_WRONG_TRIES', context: 'codeMaxWrongTries', rule: wholeNumber(1), default: 5, meaning: 'wrong tries after which a code is void' },
  domesticCallingCode: {
    env: 'DOMESTIC_CALLING_CODE',
    context: 'domesticCallingCode',
    rule: callingCode,
    default: '86',
    meaning: 'calling code where internationalCode is optional and absent',
  },
  allowedCountries: {
    env: 'SMS_ALLOWED_COUNTRIES',
    context: 'smsAllowedCountries',
    rule: countryList,
    default: undefined,
    unset: 'all',
    meaning: 'ISO 3166 codes SMS may go to, e.g. CN,HK',
  },
};

/** The caps on sends (5058). Both breakers take 0: every send refused, a kill switch that needs no code change. */
export const SEND_LIMITS: TunablesOf<SendLimits> = {
  cooldownSeconds: {
    env: 'SMS_COOLDOWN_SECONDS',
    context: 'smsCooldownSeconds',
    rule: wholeNumber(0),
    default: 60,
    meaning: 'seconds between two codes to one phone and purpose',
  },
  maxPerPhonePerDay: { env: 'SMS_MAX_PER_PHONE_PER_DAY', context: 'smsMaxPerPhonePerDay', rule: wholeNumber(1), default: 10, meaning: 'codes to one phone per UTC day' },
  maxPerIpPerHour: { env: 'SMS_MAX_PER_IP_PER_HOUR', context: 'smsMaxPerIpPerHour', rule: wholeNumber(1), default: 50, meaning: 'codes per source IP per UTC hour' },
  maxPerMinute: {
    env: 'SMS_MAX_PER_MINUTE',
    context: 'smsMaxPerMinute',
    rule: wholeNumber(0),
    default: 300,
    meaning: 'codes in all per UTC minute (0 stops every send)',
  },
  maxPerCountryPerMinute: {
    env: 'SMS_MAX_PER_COUNTRY_PER_MINUTE',
    context: 'smsMaxPerCountryPerMinute',
    rule: wholeNumber(0),
    default: 100,
    meaning: 'codes to one country per UTC minute (0 stops every send)',
  },
};

/** Signed sends: the user domains served, the clock window, the memory of used randoms. */
export const SIGNATURE_SETTINGS: TunablesOf<SignatureSettings> = {
  userDomains: {
    env: 'USER_DOMAINS',
    context: 'userDomains',
    rule: userDomainList,
    default: undefined,
    unset: 'every domain with a secret',
    meaning: 'user domains served, comma-separated',
  },
  maxClockSkewSeconds: {
    env: 'SIGNATURE_MAX_SKEW_SECONDS',
    context: 'signatureMaxSkewSeconds',
    rule: wholeNumber(1),
    default: 600,
    meaning: 'allowed distance of ts from the server clock',
  },
  nonceTtlSeconds: {
    env: 'NONCE_TTL_SECONDS',
    context: 'nonceTtlSeconds',
    rule: wholeNumber(1),
    default: 1200,
    meaning: 'how long a used random is remembered (at least 2 x the skew)',
  },
};

/** Access tokens: the login service's key set (a URL, or inline where there is no service) and issuer. */
export interface TokenKeySettings {
  readonly jwksUrl: string | undefined;
  readonly jwksJson: string | undefined;
  /** Checked when set: the `iss` the platform's login puts in its tokens. */
  readonly issuer: string | undefined;
}

export const TOKEN_KEYS: TunablesOf<TokenKeySettings> = {
  jwksUrl: {
    env: 'JWKS_URL',
    context: 'jwksUrl',
    rule: keySetUrl,
    // A deployment's login service is never on the function's own machine.
    stageRule: httpsUrl,
    default: undefined,
    meaning: "the login service's key set, that access tokens are verified against",
  },
  jwksJson: { env: 'JWKS_JSON', rule: keySetJson, default: undefined, meaning: 'an inline key set instead (local runs, tests)' },
  issuer: { env: 'JWT_ISSUER', context: 'jwtIssuer', rule: text, default: undefined, unset: 'unchecked', meaning: 'expected iss of access tokens' },
};

// SNS alphanumeric sender ids: up to 11 characters, not all digits.
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

/** How SMS are sent. */
export interface SmsSenderSettings {
  /** Alphanumeric sender id where the destination country supports one. */
  readonly senderId: string | undefined;
}

export const SMS_SENDER: TunablesOf<SmsSenderSettings> = {
  senderId: {
    env: 'SMS_SENDER_ID',
    context: 'smsSenderId',
    rule: matching(SENDER_ID, '1-11 letters and digits, at least one letter'),
    default: undefined,
    unset: 'none',
    meaning: 'SNS sender id, where the destination country supports one',
  },
};

/** Users: who exists here, and how long an erased one's tombstone stays. */
export interface UserSettings {
  readonly provisioning: UserProvisioning;
  readonly erasedRetentionDays: number;
}

export const USERS: TunablesOf<UserSettings> = {
  provisioning: {
    env: 'USER_PROVISIONING',
    context: 'userProvisioning',
    rule: oneOf(USER_PROVISIONING_MODES),
    default: 'on-first-use',
    meaning: 'on-first-use: a valid token is enough for a user to exist; registered: only registered uids',
  },
  erasedRetentionDays: {
    env: 'ERASED_USER_RETENTION_DAYS',
    context: 'erasedUserRetentionDays',
    rule: wholeNumber(1),
    default: 30,
    meaning: 'days the tombstone of an erased user is kept',
  },
};

/**
 * How phone links are written: `transactions` (one TransactWriteItems per
 * link, a single-Region table) or `ordered-writes` (conditional writes in
 * order with compensation, for multi-Region strongly consistent global
 * tables, which refuse transactions).
 */
export const PHONE_LINKS_MODES = ['transactions', 'ordered-writes'] as const;
export type PhoneLinksMode = (typeof PHONE_LINKS_MODES)[number];

/** How links are written: the stack sets it from the `regions` context, so it has no key of its own. */
export interface StorageSettings {
  readonly phoneLinksMode: PhoneLinksMode;
}

export const STORAGE: TunablesOf<StorageSettings> = {
  phoneLinksMode: {
    env: 'PHONE_LINKS_MODE',
    rule: oneOf(PHONE_LINKS_MODES),
    default: 'transactions',
    meaning: 'ordered-writes: links as on a multi-Region table, with the link reconciler (docs/MULTI-REGION.md)',
  },
};

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Powertools' variables: the log level it reads itself, the secrets' cache time it is given. */
export interface PowertoolsSettings {
  readonly secretsMaxAgeSeconds: number;
  readonly logLevel: LogLevel;
}

export const POWERTOOLS: TunablesOf<PowertoolsSettings> = {
  /**
   * How long a secret read from Secrets Manager is kept before it is read
   * again: a rotated secret is picked up within this time, without a redeploy.
   */
  secretsMaxAgeSeconds: {
    env: 'POWERTOOLS_PARAMETERS_MAX_AGE',
    rule: wholeNumber(0),
    default: 300,
    meaning: 'seconds a secret read from Secrets Manager is cached',
  },
  logLevel: { env: 'POWERTOOLS_LOG_LEVEL', rule: oneOf(LOG_LEVELS), default: 'INFO', meaning: 'log level of the structured logs' },
};

/**
 * What the stack binds a function to, by the variable that names it: the
 * tables (bindTable), the secrets (bindSecret: an ARN in the cloud, a value
 * locally and in tests), DynamoDB Local's endpoint, and the names the logs
 * and metrics carry. Not tunables: each is the stack's, or `npm start`'s, to set.
 */
export const BINDINGS = {
  codesTable: 'CODES_TABLE_NAME',
  usersTable: 'USERS_TABLE_NAME',
  /** Set locally and in tests to reach DynamoDB Local; unset in the cloud. */
  dynamoDbEndpoint: 'DYNAMODB_ENDPOINT',
  /** The key codes are stored under (HMAC pepper). */
  codePepper: { secretArn: 'CODE_PEPPER_SECRET_ARN', value: 'CODE_PEPPER' },
  /** JSON `{"<userDomain>": "<secret>"}`. */
  userDomainSecrets: { secretArn: 'USER_DOMAIN_SECRETS_SECRET_ARN', value: 'USER_DOMAIN_SECRETS' },
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** A secret's two variables: its ARN (the cloud), or its value (local runs, tests). */
export type SecretVariables = { readonly secretArn: `${string}_SECRET_ARN`; readonly value: string };

/** Every tunable, for the docs checks and `npm start -- --help`. */
export const everyTunable = (): readonly Tunable<unknown>[] =>
  [CODE_SETTINGS, SEND_LIMITS, SIGNATURE_SETTINGS, TOKEN_KEYS, SMS_SENDER, USERS, STORAGE, POWERTOOLS].flatMap(
    (group) => Object.values(group) as Tunable<unknown>[],
  );

/** A tunable's default as its variable would be set to it, or, where there is no value, what unset means (`all`). */
export const defaultText = (tunable: Tunable<unknown>): string =>
  tunable.default === undefined || tunable.default === null ? (tunable.unset ?? '-') : tunable.rule.format(tunable.default);

/** Every variable a binding sets. */
export const everyBinding = (): readonly string[] =>
  Object.values(BINDINGS).flatMap((binding) => (typeof binding === 'string' ? [binding] : [binding.secretArn, binding.value]));
