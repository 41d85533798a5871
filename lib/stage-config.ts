import type { Node } from 'constructs';
// The functions' own registry of settings and rules: context is read by the same rules, under the same defaults.
import type { CodeSettings } from '../functions/domain/code-rules';
import type { SendLimits } from '../functions/domain/send-limits';
import { windowReplayProblem, type SignatureWindow } from '../functions/domain/signature-rules';
import {
  CODE_SETTINGS,
  commaSeparated,
  flag,
  matching,
  numberAbove,
  oneOf,
  originList,
  SEND_LIMITS,
  SIGNATURE_SETTINGS,
  SMS_SENDER,
  text,
  TOKEN_KEYS,
  USERS,
  ValueRefused,
  wholeNumber,
  type SmsSenderSettings,
  type Tunable,
  type TunablesOf,
  type UserSettings,
  type ValueRule,
} from '../functions/tunables';

/**
 * Per-deployment configuration, read once from CDK context
 * (`-c stage=prod -c jwksUrl=...`, or `context` in cdk.json) and validated at
 * synth time, so a bad value fails `cdk synth` instead of a Lambda cold start.
 * docs/DEPLOY.md lists every key.
 *
 * Two kinds of keys: the functions' tunables (functions/tunables.ts: their
 * variable, key, rule and default), and the stage's own parameters
 * (STAGE_PARAMETERS below: the API, the alarms, the regions...). Both are
 * read by the rules of functions/tunables.ts, which the functions use too.
 *
 * Secrets are never configuration: the stack creates them in Secrets Manager
 * (or imports an existing one by ARN) and the functions read them at cold start.
 *
 * Only tunables set in context reach the functions: where one is absent,
 * the functions apply the registry's default, so that it is written once.
 */

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface AuthSettings {
  /** The login service's key set (JWKS_URL). */
  readonly jwksUrl: string;
  /** Expected `iss` of access tokens (JWT_ISSUER); not checked when unset. */
  readonly issuer?: string;
}

/** Values of tunables that context sets; absent ones are left to the functions' defaults. */
export type Overrides<T> = { readonly [K in keyof T]?: T[K] };

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
  readonly code: Overrides<CodeSettings>;
  readonly sendLimits: Overrides<SendLimits>;
  readonly signature: Overrides<SignatureWindow>;
  readonly sms: Overrides<SmsSenderSettings>;
  readonly users: Overrides<UserSettings>;
  readonly api: ApiSettings;
  readonly alarms: AlarmSettings;
  /** X-Ray active tracing on the functions. */
  readonly tracing: boolean;
  /** Context keys a dev placeholder stands in for (never in prod). */
  readonly placeholders: readonly string[];
}

/** A parameter of the stage alone, which no function reads: its context key, rule, default and meaning. */
export interface StageParameter<T> {
  readonly context: string;
  readonly rule: ValueRule<NonNullable<T>>;
  readonly default: T;
  readonly meaning: string;
}

const SECRET_COMPLETE_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/;
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The stage's own parameters. The defaults of the throttles are set so: the
 * send route's is above the rate at which the global breaker lets codes out,
 * so refused and retried sends still get an answer, and well below the
 * stage's, so the signed-in routes keep most of it (docs/PERFORMANCE.md,
 * "Send route throttle", has the arithmetic). The send-rate alarm fires long
 * before the global send breaker stops spending; raise it to about three
 * times the normal peak.
 */
export const STAGE_PARAMETERS = {
  stage: { context: 'stage', rule: oneOf(STAGES), default: 'dev', meaning: 'the stack, and its retention and removal rules' },
  regions: { context: 'regions', rule: commaSeparated, default: undefined, meaning: 'multi-region: the regions that run the API and hold a replica' },
  witnessRegion: { context: 'witnessRegion', rule: text, default: undefined, meaning: 'multi-region: the third region, when two are given' },
  userDomainSecretsArn: {
    context: 'userDomainSecretsArn',
    rule: matching(SECRET_COMPLETE_ARN, 'the complete ARN of a Secrets Manager secret (ending in -xxxxxx)'),
    default: undefined,
    meaning: 'an existing secret with the user-domain secrets',
  },
  throttleRateLimit: { context: 'throttleRateLimit', rule: wholeNumber(1), default: 50, meaning: 'requests per second of the $default stage' },
  throttleBurstLimit: { context: 'throttleBurstLimit', rule: wholeNumber(1), default: 100, meaning: 'burst of the $default stage' },
  sendThrottleRateLimit: { context: 'sendThrottleRateLimit', rule: wholeNumber(1), default: 10, meaning: "requests per second of the send route" },
  sendThrottleBurstLimit: { context: 'sendThrottleBurstLimit', rule: wholeNumber(1), default: 20, meaning: 'burst of the send route' },
  corsAllowedOrigins: { context: 'corsAllowedOrigins', rule: originList, default: undefined, meaning: 'browser origins allowed by CORS' },
  domainName: {
    context: 'domainName',
    rule: matching(DOMAIN_NAME, 'a lower-case DNS name such as api.example.com'),
    default: undefined,
    meaning: 'a custom domain of the API',
  },
  certificateArn: { context: 'certificateArn', rule: matching(CERTIFICATE_ARN, 'an ACM certificate ARN'), default: undefined, meaning: "the custom domain's certificate" },
  alarmEmail: { context: 'alarmEmail', rule: matching(EMAIL, 'an email address'), default: undefined, meaning: 'subscribed to the alarms' },
  alarmTopicArn: { context: 'alarmTopicArn', rule: matching(TOPIC_ARN, 'an SNS topic ARN'), default: undefined, meaning: 'an existing topic the alarms notify' },
  codesSentAlarmThreshold: { context: 'codesSentAlarmThreshold', rule: wholeNumber(1), default: 100, meaning: 'codes sent in 5 minutes that fire SendRateSpike' },
  smsFailuresAlarmThreshold: { context: 'smsFailuresAlarmThreshold', rule: wholeNumber(1), default: 5, meaning: 'failed sends in 5 minutes that fire SmsFailures' },
  smsSpendAlarmUsd: { context: 'smsSpendAlarmUsd', rule: numberAbove(0), default: 100, meaning: 'SMS spend this month, in USD, that fires SmsSpend' },
  tracing: { context: 'tracing', rule: flag('true', 'false'), default: false, meaning: 'X-Ray active tracing on every function' },
} satisfies Record<string, StageParameter<unknown>>;

/** Stage-wide API Gateway throttling unless context overrides it. */
export const DEFAULT_THROTTLE: ThrottleConfig = { rateLimit: STAGE_PARAMETERS.throttleRateLimit.default, burstLimit: STAGE_PARAMETERS.throttleBurstLimit.default };

/** The send route's own throttle unless context overrides it (STAGE_PARAMETERS says why these). */
export const DEFAULT_SEND_THROTTLE: ThrottleConfig = {
  rateLimit: STAGE_PARAMETERS.sendThrottleRateLimit.default,
  burstLimit: STAGE_PARAMETERS.sendThrottleBurstLimit.default,
};

/** Alarm thresholds unless context overrides them. */
export const DEFAULT_ALARM_THRESHOLDS = {
  codesSentPer5Minutes: STAGE_PARAMETERS.codesSentAlarmThreshold.default,
  smsFailuresPer5Minutes: STAGE_PARAMETERS.smsFailuresAlarmThreshold.default,
  smsSpendUsd: STAGE_PARAMETERS.smsSpendAlarmUsd.default,
} as const;

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
const REQUIRED_FOR_PROD = [TOKEN_KEYS.jwksUrl, SIGNATURE_SETTINGS.userDomains, TOKEN_KEYS.issuer].map((tunable) => contextKeyOf(tunable));

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
  const parameter = <T>(setting: Pick<StageParameter<T>, 'context' | 'rule'>): NonNullable<T> | undefined => take(() => optional(node, setting.context, setting.rule));
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
      jwksUrl: take(() => tunable(node, TOKEN_KEYS.jwksUrl, DEV_PLACEHOLDERS.jwksUrl)),
      issuer: take(() => tunable(node, TOKEN_KEYS.issuer)),
    },
    userDomains: take(() => tunable(node, SIGNATURE_SETTINGS.userDomains, DEV_PLACEHOLDERS.userDomains)),
    userDomainSecretsArn: parameter(STAGE_PARAMETERS.userDomainSecretsArn),
    code: overrides(node, CODE_SETTINGS, problems),
    sendLimits: overrides(node, SEND_LIMITS, problems),
    signature: take(() => signatureWindow(node, problems)),
    sms: overrides(node, SMS_SENDER, problems),
    users: overrides(node, USERS, problems),
    api: {
      ...take(() => throttles(node, problems)),
      corsAllowedOrigins: parameter(STAGE_PARAMETERS.corsAllowedOrigins),
      customDomain: take(() => optionalCustomDomain(node, problems)),
    },
    alarms: {
      email: parameter(STAGE_PARAMETERS.alarmEmail),
      topicArn: parameter(STAGE_PARAMETERS.alarmTopicArn),
      codesSentPer5Minutes: parameter(STAGE_PARAMETERS.codesSentAlarmThreshold) ?? DEFAULT_ALARM_THRESHOLDS.codesSentPer5Minutes,
      smsFailuresPer5Minutes: parameter(STAGE_PARAMETERS.smsFailuresAlarmThreshold) ?? DEFAULT_ALARM_THRESHOLDS.smsFailuresPer5Minutes,
      smsSpendUsd: parameter(STAGE_PARAMETERS.smsSpendAlarmUsd) ?? DEFAULT_ALARM_THRESHOLDS.smsSpendUsd,
    },
    tracing: parameter(STAGE_PARAMETERS.tracing) ?? STAGE_PARAMETERS.tracing.default,
    placeholders: missing.filter((key) => Object.hasOwn(DEV_PLACEHOLDERS, key)),
  };
  problems.throwIfAny();
  return config;
}

/** The context key of a tunable the stage exposes. */
function contextKeyOf(tunable: Tunable<unknown>): string {
  if (tunable.context === undefined) throw new Error(`${tunable.env} has no context key`);
  return tunable.context;
}

/**
 * A value from context by its rule, or undefined when the key is unset;
 * a refused text is a problem named by its key.
 */
function optional<T>(node: Context, key: string, rule: ValueRule<T>): T | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  try {
    return rule.parse(raw);
  } catch (error) {
    if (error instanceof ValueRefused) throw new StageConfigError(`Context "${key}" ${error.message}`);
    throw error;
  }
}

/** A tunable from context (by the stage's own rule where it has one), or the stand-in given for an unset one. */
function tunable<T>(node: Context, setting: Tunable<T>): NonNullable<T> | undefined;
function tunable<T>(node: Context, setting: Tunable<T>, standIn: string): NonNullable<T>;
function tunable<T>(node: Context, setting: Tunable<T>, standIn?: string): NonNullable<T> | undefined {
  const rule = setting.stageRule ?? setting.rule;
  const value = optional(node, contextKeyOf(setting), rule);
  return value ?? (standIn === undefined ? undefined : rule.parse(standIn));
}

/** The group's tunables that context sets (those the stage exposes), each problem noted. */
function overrides<T>(node: Context, group: TunablesOf<T>, problems: Problems): Overrides<T> {
  const values: { [K in keyof T]?: T[K] } = {};
  for (const field of Object.keys(group) as (keyof T)[]) {
    if (group[field].context !== undefined) values[field] = problems.take(() => tunable(node, group[field]));
  }
  return values;
}

/**
 * The signature window, each from context or the functions' default: a used
 * `random` must be remembered for as long as its signed request stays valid
 * (2 × the skew), or it can be replayed.
 */
function signatureWindow(node: Context, problems: Problems): Overrides<SignatureWindow> {
  const { maxClockSkewSeconds: skew, nonceTtlSeconds: nonceTtl } = SIGNATURE_SETTINGS;
  const before = problems.count;
  const maxClockSkewSeconds = problems.take(() => tunable(node, skew));
  const nonceTtlSeconds = problems.take(() => tunable(node, nonceTtl));
  // A value already refused would make the comparison say something false.
  if (problems.count > before) return { maxClockSkewSeconds, nonceTtlSeconds };
  const window = { maxClockSkewSeconds: maxClockSkewSeconds ?? skew.default, nonceTtlSeconds: nonceTtlSeconds ?? nonceTtl.default };
  const names = { maxClockSkewSeconds: `"${contextKeyOf(skew)}"`, nonceTtlSeconds: `Context "${contextKeyOf(nonceTtl)}"` };
  const problem = windowReplayProblem(window, names, nonceTtlSeconds === undefined ? `the default ${window.nonceTtlSeconds}` : String(nonceTtlSeconds));
  if (problem !== undefined) throw new StageConfigError(problem);
  return { maxClockSkewSeconds, nonceTtlSeconds };
}

/**
 * The stage's throttle and the send route's own, each from context or its
 * default. The send route's must stay under the stage's: its rate strictly
 * below, or a flood of sends could take all of it from the signed-in
 * routes, and its burst no larger.
 */
function throttles(node: Context, problems: Problems): Pick<ApiSettings, 'throttle' | 'sendThrottle'> {
  const { throttleRateLimit, throttleBurstLimit, sendThrottleRateLimit, sendThrottleBurstLimit } = STAGE_PARAMETERS;
  const read = (setting: Pick<StageParameter<number>, 'context' | 'rule'>) => problems.take(() => optional(node, setting.context, setting.rule));
  const before = problems.count;
  const stageRate = read(throttleRateLimit);
  const stageBurst = read(throttleBurstLimit);
  const sendRate = read(sendThrottleRateLimit);
  const sendBurst = read(sendThrottleBurstLimit);
  const throttle = { rateLimit: stageRate ?? DEFAULT_THROTTLE.rateLimit, burstLimit: stageBurst ?? DEFAULT_THROTTLE.burstLimit };
  const sendThrottle = { rateLimit: sendRate ?? DEFAULT_SEND_THROTTLE.rateLimit, burstLimit: sendBurst ?? DEFAULT_SEND_THROTTLE.burstLimit };
  // A value already refused would make the comparisons say something false.
  if (problems.count > before) return { throttle, sendThrottle };
  const given = (value: number | undefined, fallback: number) => (value === undefined ? `the default ${fallback}` : String(value));
  if (sendThrottle.rateLimit >= throttle.rateLimit) {
    problems.add(
      `Context "${sendThrottleRateLimit.context}" (${given(sendRate, sendThrottle.rateLimit)}) must be below "${throttleRateLimit.context}" ` +
        `(${given(stageRate, throttle.rateLimit)}): otherwise a flood of sends could starve the signed-in routes`,
    );
  }
  if (sendThrottle.burstLimit > throttle.burstLimit) {
    problems.add(
      `Context "${sendThrottleBurstLimit.context}" (${given(sendBurst, sendThrottle.burstLimit)}) must be at most "${throttleBurstLimit.context}" ` +
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
  const { regions: regionsKey, witnessRegion: witnessKey } = STAGE_PARAMETERS;
  const regions = optional(node, regionsKey.context, regionsKey.rule);
  const witnessRegion = optional(node, witnessKey.context, witnessKey.rule);
  const keys = `Context "${regionsKey.context}" and "${witnessKey.context}"`;
  if (regions === undefined) {
    if (witnessRegion !== undefined) throw new StageConfigError(`Context "${witnessKey.context}" needs "${regionsKey.context}" (e.g. -c regions=eu-west-1,eu-west-2)`);
    return undefined;
  }
  const all = [...regions, ...(witnessRegion === undefined ? [] : [witnessRegion])];
  const example = 'e.g. -c regions=eu-west-1,eu-west-2 -c witnessRegion=eu-central-1, or -c regions=eu-west-1,eu-west-2,eu-west-3';
  if (new Set(all).size !== all.length || all.length !== 3 || regions.length < 2) {
    throw new StageConfigError(`${keys} must name three different regions, two or three of them replicas; ${example}`);
  }
  const set = Object.entries(MRSC_REGION_SETS).find(([, members]) => all.every((region) => members.includes(region)));
  if (set === undefined) {
    const sets = Object.entries(MRSC_REGION_SETS).map(([name, members]) => `${name}: ${members.join(', ')}`).join('; ');
    throw new StageConfigError(`${keys} must all be in one region set with multi-Region strong consistency (${sets}), got ${all.join(', ')}`);
  }
  return { regions, witnessRegion };
}

function readStage(node: Context): Stage {
  const { context, rule, default: fallback } = STAGE_PARAMETERS.stage;
  const raw = optionalString(node, context) ?? fallback;
  try {
    return rule.parse(raw);
  } catch {
    throw new StageConfigError(`Unknown stage "${raw}": use -c ${context}=${STAGES.join('|')}`);
  }
}

/** Context from the command line is always a string; from cdk.json it may be a number or boolean. */
function optionalString(node: Context, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

function optionalCustomDomain(node: Context, problems: Problems): CustomDomain | undefined {
  const { domainName: nameKey, certificateArn: certificateKey } = STAGE_PARAMETERS;
  const before = problems.count;
  const domainName = problems.take(() => optional(node, nameKey.context, nameKey.rule));
  const certificateArn = problems.take(() => optional(node, certificateKey.context, certificateKey.rule));
  if (problems.count > before || (domainName === undefined && certificateArn === undefined)) return undefined;
  if (domainName === undefined || certificateArn === undefined) {
    throw new StageConfigError(`Context "${nameKey.context}" and "${certificateKey.context}" go together: give both or neither`);
  }
  return { domainName, certificateArn };
}

/** `PhoneLink-dev`, `PhoneLink-prod`. */
export const stackName = (stage: Stage): string => `PhoneLink-${stage}`;
