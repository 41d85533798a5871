import { isSupportedCountry } from 'libphonenumber-js';
import type { Node } from 'constructs';
// The modes offered here are the ones the functions accept, checked by the compiler; the signature
// defaults and the nonce rule are the functions' own, so context is checked against what they will apply.
import { minimumNonceTtlSeconds, SIGNATURE_DEFAULTS, type UserProvisioning } from '../functions/config';

/**
 * Per-deployment configuration, read once from CDK context
 * (`-c stage=prod -c jwksUrl=...`, or `context` in cdk.json) and validated at
 * synth time, so a bad value fails `cdk synth` instead of a Lambda cold start.
 * docs/DEPLOY.md lists every key.
 *
 * Secrets are never configuration: the stack creates them in Secrets Manager
 * (or imports an existing one by ARN) and the functions read them at cold start.
 *
 * Only tunables set in context reach the functions: where one is absent,
 * functions/config.ts applies its own default, so that file stays the single
 * source of truth for defaults.
 */

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface AuthSettings {
  /** The login service's key set (JWKS_URL). */
  readonly jwksUrl: string;
  /** Expected `iss` of access tokens (JWT_ISSUER); not checked when unset. */
  readonly issuer?: string;
}

/** Optional overrides of functions/config.ts defaults. */
export interface CodeSettings {
  readonly ttlSeconds?: number;
  readonly maxWrongTries?: number;
  readonly domesticCallingCode?: string;
}

export interface SendLimitSettings {
  readonly cooldownSeconds?: number;
  readonly maxPerPhonePerDay?: number;
  readonly maxPerIpPerHour?: number;
  /** The global minute breaker (SMS_MAX_PER_MINUTE); 0 refuses every send (5058), a kill switch. */
  readonly maxPerMinute?: number;
  /** The breaker of each destination country (SMS_MAX_PER_COUNTRY_PER_MINUTE); 0 refuses every send too. */
  readonly maxPerCountryPerMinute?: number;
}

export interface SignatureSettings {
  readonly maxSkewSeconds?: number;
  readonly nonceTtlSeconds?: number;
}

export interface SmsSettings {
  /** Alphanumeric sender id (SMS_SENDER_ID), where the destination country supports one. */
  readonly senderId?: string;
  /** ISO 3166 alpha-2 countries codes may be sent to (SMS_ALLOWED_COUNTRIES); undefined = all. */
  readonly allowedCountries?: readonly string[];
}

/** USER_PROVISIONING values; functions/config.ts reads them and defaults to on-first-use. */
export const USER_PROVISIONING_MODES = ['on-first-use', 'registered'] as const satisfies readonly UserProvisioning[];

export interface UserSettings {
  /** Whether a valid token is enough to know its user (USER_PROVISIONING), for the functions that answer users. */
  readonly provisioning?: UserProvisioning;
  /** Days the tombstone of an erased user is kept (ERASED_USER_RETENTION_DAYS), for the admin function. */
  readonly erasedRetentionDays?: number;
}

export interface ThrottleConfig {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface CustomDomain {
  /** e.g. `api.example.com`; DNS is the operator's (a CNAME/alias to the output target). */
  readonly domainName: string;
  /** An ACM certificate for `domainName`, in the stack's region. */
  readonly certificateArn: string;
}

export interface ApiSettings {
  /** The $default stage's throttle, for every route without one of its own. */
  readonly throttle: ThrottleConfig;
  /** sendPhoneSmsCode's own throttle: below the stage's, so a flood of sends cannot starve the signed-in routes. */
  readonly sendThrottle: ThrottleConfig;
  /** Browser origins allowed by CORS; undefined = no CORS (the app clients are not browsers). */
  readonly corsAllowedOrigins?: readonly string[];
  readonly customDomain?: CustomDomain;
}

export interface AlarmSettings {
  /** Subscribed to a topic the stack creates. */
  readonly email?: string;
  /** An existing SNS topic the alarms also notify. */
  readonly topicArn?: string;
  /** Codes sent in 5 minutes at or above which the send-rate (SMS pumping) alarm fires. */
  readonly codesSentPer5Minutes: number;
  /** SMS the provider refused in 5 minutes at or above which the SMS-failure alarm fires. */
  readonly smsFailuresPer5Minutes: number;
  /** SNS SMS spend this month, in USD, at or above which the spend alarm fires. */
  readonly smsSpendUsd: number;
}

/**
 * Multi-Region strong consistency (docs/MULTI-REGION.md): the users table is
 * an MRSC global table over three regions of one region set, and every
 * replica region runs the API.
 */
export interface MultiRegionSettings {
  /** Where the API runs and the users table has a replica; the first is the primary stack's own. */
  readonly regions: readonly string[];
  /** The third region, holding no replica, when only two are given. */
  readonly witnessRegion?: string;
}

export interface StageConfig {
  readonly stage: Stage;
  /** Undefined: one region, the stack's own, exactly as without this feature. */
  readonly multiRegion?: MultiRegionSettings;
  readonly auth: AuthSettings;
  /** The user domains this deployment serves (USER_DOMAINS). */
  readonly userDomains: readonly string[];
  /** An existing secret with the user-domain secrets; undefined = the stack creates one. */
  readonly userDomainSecretsArn?: string;
  readonly code: CodeSettings;
  readonly sendLimits: SendLimitSettings;
  readonly signature: SignatureSettings;
  readonly sms: SmsSettings;
  readonly users: UserSettings;
  readonly api: ApiSettings;
  readonly alarms: AlarmSettings;
  /** X-Ray active tracing on the functions. */
  readonly tracing: boolean;
  /** Context keys a dev placeholder stands in for (never in prod). */
  readonly placeholders: readonly string[];
}

/** Stage-wide API Gateway throttling unless context overrides it. */
export const DEFAULT_THROTTLE: ThrottleConfig = { rateLimit: 50, burstLimit: 100 };

/**
 * The send route's own throttle unless context overrides it: above the rate
 * at which the global breaker lets codes out, so refused and retried sends
 * still get an answer, and well below the stage's, so the signed-in routes
 * keep most of it. docs/PERFORMANCE.md ("Send route throttle") has the arithmetic.
 */
export const DEFAULT_SEND_THROTTLE: ThrottleConfig = { rateLimit: 10, burstLimit: 20 };

/**
 * Alarm thresholds unless context overrides them. The send-rate alarm fires
 * long before the global send breaker stops spending; raise it to about
 * three times the normal peak.
 */
export const DEFAULT_ALARM_THRESHOLDS = { codesSentPer5Minutes: 100, smsFailuresPer5Minutes: 5, smsSpendUsd: 100 } as const;

/**
 * Stand-ins that let `cdk synth` run for dev without any context. Named so
 * that nobody mistakes them for real values; never accepted for prod.
 */
export const DEV_PLACEHOLDERS = {
  jwksUrl: 'https://dev-placeholder.invalid/.well-known/jwks.json',
  userDomains: 'dev-placeholder-domain',
} as const;

/**
 * Context a prod deployment must give. Dev placeholders stand in for the key
 * set and the user domains; the issuer has none, since dev leaves `iss`
 * unchecked. Prod checks it: a key set may sign tokens of other issuers too.
 */
const REQUIRED_FOR_PROD = ['jwksUrl', 'userDomains', 'jwtIssuer'] as const;

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

type Context = Pick<Node, 'tryGetContext'>;

/**
 * Every problem of the context, gathered so that one synth names them all
 * (a synth takes long enough that finding three mistakes one run at a time hurts).
 */
class Problems {
  private readonly messages: string[] = [];

  get count(): number {
    return this.messages.length;
  }

  add(message: string): void {
    this.messages.push(message);
  }

  /**
   * The reader's value, or, when it finds a problem, the problem noted and
   * `undefined` in place of the value. That `undefined` never reaches a
   * caller: readStageConfig throws once all is read if anything was noted.
   */
  readonly take = <T>(reader: () => T): T => {
    try {
      return reader();
    } catch (error) {
      if (!(error instanceof StageConfigError)) throw error;
      this.add(error.message);
      return undefined as T;
    }
  };

  /** One problem as it is; several as a list. */
  throwIfAny(): void {
    if (this.messages.length === 1) throw new StageConfigError(this.messages[0]!);
    if (this.messages.length > 1) {
      throw new StageConfigError(`The context has ${this.messages.length} problems (docs/DEPLOY.md lists every key):\n${this.messages.map((message) => `  - ${message}`).join('\n')}`);
    }
  }
}

/** Reads and validates the stage configuration from `node`'s context (usually the App's), naming every problem at once. */
export function readStageConfig(node: Context): StageConfig {
  const problems = new Problems();
  const { take } = problems;
  const stage = take(() => readStage(node));
  const missing = REQUIRED_FOR_PROD.filter((key) => optionalString(node, key) === undefined);
  if (stage === 'prod' && missing.length > 0) {
    problems.add(
      `Stage "${stage}" needs context ${missing.map((key) => `"${key}"`).join(', ')}; e.g. ` +
        `npx cdk deploy -c stage=${stage} -c jwksUrl=https://login.example.com/.well-known/jwks.json ` +
        `-c jwtIssuer=<the "iss" of the login service's tokens> -c userDomains=<userDomain>[,<userDomain>...]  (see docs/DEPLOY.md)`,
    );
  }

  const config: StageConfig = {
    stage,
    multiRegion: take(() => multiRegionSettings(node)),
    auth: {
      jwksUrl: take(() => httpsUrl(optionalString(node, 'jwksUrl') ?? DEV_PLACEHOLDERS.jwksUrl, 'jwksUrl')),
      issuer: optionalString(node, 'jwtIssuer'),
    },
    userDomains: take(() => userDomains(optionalString(node, 'userDomains') ?? DEV_PLACEHOLDERS.userDomains)),
    userDomainSecretsArn: take(() => optionalMatch(node, 'userDomainSecretsArn', SECRET_COMPLETE_ARN, 'the complete ARN of a Secrets Manager secret (ending in -xxxxxx)')),
    code: {
      ttlSeconds: take(() => optionalInteger(node, 'codeTtlSeconds', 1)),
      maxWrongTries: take(() => optionalInteger(node, 'codeMaxWrongTries', 1)),
      domesticCallingCode: take(() => optionalCallingCode(node, 'domesticCallingCode')),
    },
    sendLimits: {
      cooldownSeconds: take(() => optionalInteger(node, 'smsCooldownSeconds', 0)),
      maxPerPhonePerDay: take(() => optionalInteger(node, 'smsMaxPerPhonePerDay', 1)),
      maxPerIpPerHour: take(() => optionalInteger(node, 'smsMaxPerIpPerHour', 1)),
      // 0 is allowed for both breakers: every send is refused (5058), a kill switch that needs no code change.
      maxPerMinute: take(() => optionalInteger(node, 'smsMaxPerMinute', 0)),
      maxPerCountryPerMinute: take(() => optionalInteger(node, 'smsMaxPerCountryPerMinute', 0)),
    },
    signature: take(() => signatureSettings(node, problems)),
    sms: {
      senderId: take(() => optionalMatch(node, 'smsSenderId', SENDER_ID, '1-11 letters and digits, at least one letter')),
      allowedCountries: take(() => optionalCountries(node, 'smsAllowedCountries')),
    },
    users: {
      provisioning: take(() => optionalChoice(node, 'userProvisioning', USER_PROVISIONING_MODES)),
      erasedRetentionDays: take(() => optionalInteger(node, 'erasedUserRetentionDays', 1)),
    },
    api: {
      ...take(() => throttles(node, problems)),
      corsAllowedOrigins: take(() => optionalOrigins(node, 'corsAllowedOrigins')),
      customDomain: take(() => optionalCustomDomain(node, problems)),
    },
    alarms: {
      email: take(() => optionalMatch(node, 'alarmEmail', EMAIL, 'an email address')),
      topicArn: take(() => optionalMatch(node, 'alarmTopicArn', TOPIC_ARN, 'an SNS topic ARN')),
      codesSentPer5Minutes: take(() => optionalInteger(node, 'codesSentAlarmThreshold', 1)) ?? DEFAULT_ALARM_THRESHOLDS.codesSentPer5Minutes,
      smsFailuresPer5Minutes: take(() => optionalInteger(node, 'smsFailuresAlarmThreshold', 1)) ?? DEFAULT_ALARM_THRESHOLDS.smsFailuresPer5Minutes,
      smsSpendUsd: take(() => optionalPositiveNumber(node, 'smsSpendAlarmUsd')) ?? DEFAULT_ALARM_THRESHOLDS.smsSpendUsd,
    },
    tracing: take(() => optionalBoolean(node, 'tracing')) ?? false,
    placeholders: missing.filter((key) => Object.hasOwn(DEV_PLACEHOLDERS, key)),
  };
  problems.throwIfAny();
  return config;
}

const SECRET_COMPLETE_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/;
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// SNS alphanumeric sender ids: up to 11 characters, not all digits.
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// The platform's user domains look like `C.DM.5903.1`; commas separate them, so none may hold one.
const USER_DOMAIN = /^[\w.:-]+$/;

/**
 * The signature window and the nonce memory, each from context or the
 * functions' default: a used `random` must be remembered for as long as its
 * signed request stays valid (2 × the skew), or it can be replayed.
 */
function signatureSettings(node: Context, problems: Problems): SignatureSettings {
  const before = problems.count;
  const maxSkewSeconds = problems.take(() => optionalInteger(node, 'signatureMaxSkewSeconds', 1));
  const nonceTtlSeconds = problems.take(() => optionalInteger(node, 'nonceTtlSeconds', 1));
  // A value already refused would make the comparison say something false.
  if (problems.count > before) return { maxSkewSeconds, nonceTtlSeconds };
  const minimum = minimumNonceTtlSeconds(maxSkewSeconds ?? SIGNATURE_DEFAULTS.maxClockSkewSeconds);
  const nonceTtl = nonceTtlSeconds ?? SIGNATURE_DEFAULTS.nonceTtlSeconds;
  if (nonceTtl < minimum) {
    throw new StageConfigError(
      `Context "nonceTtlSeconds" must be at least 2 × "signatureMaxSkewSeconds" (${minimum}), ` +
        `got ${nonceTtlSeconds === undefined ? `the default ${nonceTtl}` : nonceTtl}: a random forgotten sooner can be replayed`,
    );
  }
  return { maxSkewSeconds, nonceTtlSeconds };
}

/**
 * The stage's throttle and the send route's own, each from context or its
 * default. The send route's must stay under the stage's: its rate strictly
 * below, or a flood of sends could take all of it from the signed-in
 * routes, and its burst no larger.
 */
function throttles(node: Context, problems: Problems): Pick<ApiSettings, 'throttle' | 'sendThrottle'> {
  const before = problems.count;
  const stageRate = problems.take(() => optionalInteger(node, 'throttleRateLimit', 1));
  const stageBurst = problems.take(() => optionalInteger(node, 'throttleBurstLimit', 1));
  const sendRate = problems.take(() => optionalInteger(node, 'sendThrottleRateLimit', 1));
  const sendBurst = problems.take(() => optionalInteger(node, 'sendThrottleBurstLimit', 1));
  const throttle = { rateLimit: stageRate ?? DEFAULT_THROTTLE.rateLimit, burstLimit: stageBurst ?? DEFAULT_THROTTLE.burstLimit };
  const sendThrottle = { rateLimit: sendRate ?? DEFAULT_SEND_THROTTLE.rateLimit, burstLimit: sendBurst ?? DEFAULT_SEND_THROTTLE.burstLimit };
  // A value already refused would make the comparisons say something false.
  if (problems.count > before) return { throttle, sendThrottle };
  const given = (value: number | undefined, fallback: number) => (value === undefined ? `the default ${fallback}` : String(value));
  if (sendThrottle.rateLimit >= throttle.rateLimit) {
    problems.add(
      `Context "sendThrottleRateLimit" (${given(sendRate, sendThrottle.rateLimit)}) must be below "throttleRateLimit" ` +
        `(${given(stageRate, throttle.rateLimit)}): otherwise a flood of sends could starve the signed-in routes`,
    );
  }
  if (sendThrottle.burstLimit > throttle.burstLimit) {
    problems.add(
      `Context "sendThrottleBurstLimit" (${given(sendBurst, sendThrottle.burstLimit)}) must be at most "throttleBurstLimit" ` +
        `(${given(stageBurst, throttle.burstLimit)})`,
    );
  }
  return { throttle, sendThrottle };
}

/**
 * The region sets DynamoDB offers multi-Region strong consistency in: the
 * three regions (replicas and witness) must all come from one set.
 */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

/** `-c regions=eu-west-1,eu-west-2 -c witnessRegion=eu-central-1`, or three regions and no witness. */
function multiRegionSettings(node: Context): MultiRegionSettings | undefined {
  const regions = optionalString(node, 'regions')?.split(',').map((region) => region.trim());
  const witnessRegion = optionalString(node, 'witnessRegion');
  if (regions === undefined) {
    if (witnessRegion !== undefined) throw new StageConfigError('Context "witnessRegion" needs "regions" (e.g. -c regions=eu-west-1,eu-west-2)');
    return undefined;
  }
  const all = [...regions, ...(witnessRegion === undefined ? [] : [witnessRegion])];
  const example = 'e.g. -c regions=eu-west-1,eu-west-2 -c witnessRegion=eu-central-1, or -c regions=eu-west-1,eu-west-2,eu-west-3';
  if (new Set(all).size !== all.length || all.length !== 3 || regions.length < 2) {
    throw new StageConfigError(`Context "regions" and "witnessRegion" must name three different regions, two or three of them replicas; ${example}`);
  }
  const set = Object.entries(MRSC_REGION_SETS).find(([, members]) => all.every((region) => members.includes(region)));
  if (set === undefined) {
    const sets = Object.entries(MRSC_REGION_SETS).map(([name, members]) => `${name}: ${members.join(', ')}`).join('; ');
    throw new StageConfigError(`Context "regions" and "witnessRegion" must all be in one region set with multi-Region strong consistency (${sets}), got ${all.join(', ')}`);
  }
  return { regions, witnessRegion };
}

function readStage(node: Context): Stage {
  const raw = optionalString(node, 'stage') ?? 'dev';
  if (!(STAGES as readonly string[]).includes(raw)) {
    throw new StageConfigError(`Unknown stage "${raw}": use -c stage=${STAGES.join('|')}`);
  }
  return raw as Stage;
}

/** Context from the command line is always a string; from cdk.json it may be a number or boolean. */
function optionalString(node: Context, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

function optionalMatch(node: Context, key: string, pattern: RegExp, expected: string): string | undefined {
  const raw = optionalString(node, key);
  if (raw !== undefined && !pattern.test(raw)) throw new StageConfigError(`Context "${key}" must be ${expected}, got "${raw}"`);
  return raw;
}

function optionalInteger(node: Context, key: string, min: number): number | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StageConfigError(`Context "${key}" must be a whole number >= ${min}, got "${raw}"`);
  }
  return value;
}

/** A number above 0, decimals allowed (an amount of money). */
function optionalPositiveNumber(node: Context, key: string): number | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new StageConfigError(`Context "${key}" must be a number above 0, got "${raw}"`);
  return value;
}

function optionalChoice<T extends string>(node: Context, key: string, choices: readonly T[]): T | undefined {
  const raw = optionalString(node, key);
  if (raw !== undefined && !(choices as readonly string[]).includes(raw)) {
    throw new StageConfigError(`Context "${key}" must be ${choices.join(' or ')}, got "${raw}"`);
  }
  return raw as T | undefined;
}

function optionalBoolean(node: Context, key: string): boolean | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw new StageConfigError(`Context "${key}" must be true or false, got "${raw}"`);
  return raw === 'true';
}

const list = (raw: string): string[] => raw.split(',').map((item) => item.trim()).filter(Boolean);

function optionalCallingCode(node: Context, key: string): string | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const digits = raw.replace(/^(\+|00)/, '');
  if (!/^[1-9]\d{0,2}$/.test(digits)) {
    throw new StageConfigError(`Context "${key}" must be a country calling code such as 86, got "${raw}"`);
  }
  return digits;
}

function userDomains(raw: string): string[] {
  const domains = list(raw);
  const bad = domains.find((domain) => !USER_DOMAIN.test(domain));
  if (domains.length === 0 || bad !== undefined) {
    throw new StageConfigError(`Context "userDomains" must be comma-separated user domains such as C.DM.5903.1, got "${raw}"`);
  }
  return [...new Set(domains)];
}

/** ISO 3166 alpha-2 codes that libphonenumber knows (the functions parse numbers with it): `UK` fails, `GB` passes. */
function optionalCountries(node: Context, key: string): string[] | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const countries = list(raw).map((country) => country.toUpperCase());
  const bad = countries.find((country) => !/^[A-Z]{2}$/.test(country) || !isSupportedCountry(country));
  if (countries.length === 0 || bad !== undefined) {
    throw new StageConfigError(`Context "${key}" must be comma-separated ISO 3166 alpha-2 codes such as CN,HK; "${bad ?? raw}" is not one`);
  }
  return [...new Set(countries)];
}

/** Exact origins only (`https://app.example.com`): a wildcard would let any web page call the API. */
function optionalOrigins(node: Context, key: string): string[] | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const origins = list(raw);
  const bad = origins.find((origin) => {
    try {
      const url = new URL(origin);
      return url.origin !== origin || (url.protocol !== 'https:' && url.hostname !== 'localhost');
    } catch {
      return true;
    }
  });
  if (origins.length === 0 || bad !== undefined) {
    throw new StageConfigError(`Context "${key}" must be comma-separated origins such as https://app.example.com; "${bad ?? raw}" is not one`);
  }
  return origins;
}

function optionalCustomDomain(node: Context, problems: Problems): CustomDomain | undefined {
  const before = problems.count;
  const domainName = problems.take(() => optionalMatch(node, 'domainName', DOMAIN_NAME, 'a lower-case DNS name such as api.example.com'));
  const certificateArn = problems.take(() => optionalMatch(node, 'certificateArn', CERTIFICATE_ARN, 'an ACM certificate ARN'));
  if (problems.count > before || (domainName === undefined && certificateArn === undefined)) return undefined;
  if (domainName === undefined || certificateArn === undefined) {
    throw new StageConfigError('Context "domainName" and "certificateArn" go together: give both or neither');
  }
  return { domainName, certificateArn };
}

function httpsUrl(raw: string, key: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StageConfigError(`Context "${key}" must be an https URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:') throw new StageConfigError(`Context "${key}" must be an https URL, got "${raw}"`);
  return raw;
}

/** `PhoneLink-dev`, `PhoneLink-prod`. */
export const stackName = (stage: Stage): string => `PhoneLink-${stage}`;
