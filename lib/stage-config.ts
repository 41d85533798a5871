import type { Node } from 'constructs';

/**
 * Per-deployment configuration, read once from CDK context
 * (`-c stage=prod -c jwksUrl=...`, or `context` in cdk.json) and validated at
 * synth time, so a bad value fails `cdk synth` instead of a Lambda cold start.
 *
 * Only values set in context reach the functions: where a tunable (a limit, a
 * TTL) is absent, functions/config.ts applies its own default, so that file
 * stays the single source of truth for defaults.
 */

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Values that are secret; a later issue moves them to Secrets Manager. */
export interface StageSecrets {
  /** HMAC key verification codes are stored under (CODE_PEPPER). */
  readonly codePepper: string;
  /** JSON object `{"<userDomain>": "<secret>"}` (USER_DOMAIN_SECRETS). */
  readonly userDomainSecrets: string;
}

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
  readonly maxPerMinute?: number;
}

export interface SignatureSettings {
  readonly maxSkewSeconds?: number;
  readonly nonceTtlSeconds?: number;
}

export interface ThrottleConfig {
  /** Steady-state requests per second, across all routes of the stage. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface StageConfig {
  readonly stage: Stage;
  readonly secrets: StageSecrets;
  readonly auth: AuthSettings;
  readonly code: CodeSettings;
  readonly sendLimits: SendLimitSettings;
  readonly signature: SignatureSettings;
  /** Alphanumeric SMS sender id (SMS_SENDER_ID), where countries support one. */
  readonly smsSenderId?: string;
  readonly throttle?: Partial<ThrottleConfig>;
  /** True when dev placeholders stand in for secrets or the key set. */
  readonly usesPlaceholders: boolean;
}

/**
 * Stand-ins that let `cdk synth` run for dev without any context. Named so
 * that nobody mistakes them for real values; never accepted for prod.
 */
export const DEV_PLACEHOLDERS = {
  codePepper: 'DEV-PLACEHOLDER-code-pepper-not-secret',
  userDomainSecrets: JSON.stringify({ 'dev-placeholder-domain': 'DEV-PLACEHOLDER-domain-secret-not-secret' }),
  jwksUrl: 'https://dev-placeholder.invalid/.well-known/jwks.json',
} as const;

const REQUIRED_FOR_PROD = ['jwksUrl', 'userDomainSecrets', 'codePepper'] as const;

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

type Context = Pick<Node, 'tryGetContext'>;

/** Reads and validates the stage configuration from `node`'s context (usually the App's). */
export function readStageConfig(node: Context): StageConfig {
  const stage = readStage(node);
  const missing = REQUIRED_FOR_PROD.filter((key) => optionalString(node, key) === undefined);
  if (stage !== 'dev' && missing.length > 0) {
    throw new StageConfigError(
      `Stage "${stage}" needs context ${missing.map((key) => `"${key}"`).join(', ')}; e.g. ` +
        `npx cdk synth -c stage=${stage} -c jwksUrl=https://login.example.com/.well-known/jwks.json ` +
        `-c userDomainSecrets='{"<userDomain>":"<secret>"}' -c codePepper=<random string>`,
    );
  }

  const codePepper = optionalString(node, 'codePepper') ?? DEV_PLACEHOLDERS.codePepper;
  const userDomainSecrets = validDomainSecrets(optionalString(node, 'userDomainSecrets') ?? DEV_PLACEHOLDERS.userDomainSecrets);
  const jwksUrl = validUrl(optionalString(node, 'jwksUrl') ?? DEV_PLACEHOLDERS.jwksUrl, 'jwksUrl');

  return {
    stage,
    secrets: { codePepper, userDomainSecrets },
    auth: { jwksUrl, issuer: optionalString(node, 'jwtIssuer') },
    code: {
      ttlSeconds: optionalInteger(node, 'codeTtlSeconds', 1),
      maxWrongTries: optionalInteger(node, 'codeMaxWrongTries', 1),
      domesticCallingCode: optionalCallingCode(node, 'domesticCallingCode'),
    },
    sendLimits: {
      cooldownSeconds: optionalInteger(node, 'smsCooldownSeconds', 0),
      maxPerPhonePerDay: optionalInteger(node, 'smsMaxPerPhonePerDay', 1),
      maxPerIpPerHour: optionalInteger(node, 'smsMaxPerIpPerHour', 1),
      maxPerMinute: optionalInteger(node, 'smsMaxPerMinute', 1),
    },
    signature: {
      maxSkewSeconds: optionalInteger(node, 'signatureMaxSkewSeconds', 1),
      nonceTtlSeconds: optionalInteger(node, 'nonceTtlSeconds', 1),
    },
    smsSenderId: optionalString(node, 'smsSenderId'),
    throttle: {
      rateLimit: optionalInteger(node, 'throttleRateLimit', 1),
      burstLimit: optionalInteger(node, 'throttleBurstLimit', 1),
    },
    usesPlaceholders: missing.length > 0,
  };
}

function readStage(node: Context): Stage {
  const raw = optionalString(node, 'stage') ?? 'dev';
  if (!(STAGES as readonly string[]).includes(raw)) {
    throw new StageConfigError(`Unknown stage "${raw}": use -c stage=${STAGES.join('|')}`);
  }
  return raw as Stage;
}

/** Context from the command line is always a string; from cdk.json it may be a number. */
function optionalString(node: Context, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new StageConfigError(`Context "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  const text = String(value).trim();
  return text === '' ? undefined : text;
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

function optionalCallingCode(node: Context, key: string): string | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const digits = raw.replace(/^(\+|00)/, '');
  if (!/^[1-9]\d{0,2}$/.test(digits)) {
    throw new StageConfigError(`Context "${key}" must be a country calling code such as 86, got "${raw}"`);
  }
  return digits;
}

/** Same shape functions/config.ts accepts, checked here so a typo fails the synth. */
function validDomainSecrets(raw: string): string {
  const usage = 'Context "userDomainSecrets" must be a JSON object {"<userDomain>":"<secret>"} naming at least one domain';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new StageConfigError(usage);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new StageConfigError(usage);
  const entries = Object.entries(parsed);
  if (entries.length === 0 || entries.some(([, secret]) => typeof secret !== 'string' || secret === '')) {
    throw new StageConfigError(usage);
  }
  return JSON.stringify(parsed);
}

function validUrl(raw: string, key: string): string {
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
