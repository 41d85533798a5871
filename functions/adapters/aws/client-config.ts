import { fromEnv } from '@aws-sdk/credential-provider-env';

// Sized so that each request's calls, every one failing as slowly as it can,
// fit in REQUEST_BUDGET_MS (functions/request-budget.ts) when nothing has to
// be read again and the secrets and key set are cached:
// test/unit/request-budget.test.ts adds them up path by path,
// test/integration/request-budget.test.ts measures them under injected faults.

/**
 * How every AWS SDK client of the functions is set up, in one place. Each
 * adapter builds its client once per container (at cold start) from this.
 */
export interface ClientSettings {
  /** Attempts in all, first one included, by the SDK's standard retry strategy. */
  readonly maxAttempts: number;
  /** Milliseconds to open a connection. */
  readonly connectionTimeout: number;
  /**
   * Milliseconds an attempt may wait for its answer, counted from its start
   * (opening the connection included); then it fails with a TimeoutError
   * (and may be retried).
   */
  readonly requestTimeout: number;
}

export const CLIENT_SETTINGS = {
  // DynamoDB answers in milliseconds: a hung socket should not eat the
  // function's time. Every write is safe to send again (conditions and
  // request tokens make a retry recognise itself), so the SDK may retry
  // throttling, 5xx, timeouts and resets alike. One retry rides out a blip;
  // a third attempt would add up to 2 s of throttling pause per call, which
  // the longest request (three calls and a Publish) has no room for.
  dynamodb: { maxAttempts: 2, connectionTimeout: 500, requestTimeout: 500 },
  // SNS may take a second or two to accept an SMS. A Publish has no request
  // token: sent again after a timeout it could text the user twice, so it
  // is sent once, and a failure answers 5059 (the app may ask again).
  sns: { maxAttempts: 1, connectionTimeout: 500, requestTimeout: 2_000 },
  // End User Messaging SMS (SendTextMessage), for the same reasons as SNS: no
  // request token, so a retry after a timeout could text the user twice.
  smsVoice: { maxAttempts: 1, connectionTimeout: 500, requestTimeout: 2_000 },
  // PutMessageFeedback, off the request's path: marking a message RECEIVED
  // twice changes nothing, so the SDK may retry throttling, 5xx, timeouts.
  smsVoiceFeedback: { maxAttempts: 3, connectionTimeout: 1_000, requestTimeout: 2_000 },
  // Read at cold start and when the cache expires; a read is safe to repeat.
  secretsManager: { maxAttempts: 2, connectionTimeout: 500, requestTimeout: 1_000 },
} as const satisfies Record<string, ClientSettings>;

export type AwsService = keyof typeof CLIENT_SETTINGS;

/**
 * The longest pause the SDK's standard retry mode takes before retry `n`
 * (1 for the second attempt): a random share of a base that doubles with
 * each retry. Throttling has the largest base; other errors pause far less.
 * The SDK may stretch a pause to a Retry-After header, which DynamoDB and
 * Secrets Manager do not send (and SNS and SendTextMessage are never retried).
 */
export const longestRetryPauseMs = (retry: number): number => 1_000 * 2 ** (retry - 1);

/**
 * The longest one call can take: every attempt running out its
 * requestTimeout, and every pause between attempts at its longest.
 */
export function longestCallMs(service: AwsService): number {
  const { maxAttempts, requestTimeout } = CLIENT_SETTINGS[service];
  let total = maxAttempts * requestTimeout;
  for (let retry = 1; retry < maxAttempts; retry++) total += longestRetryPauseMs(retry);
  return total;
}

/**
 * For `npm start` only: DynamoDB Local is a JVM sharing a developer's CPU,
 * and under a burst (an import, a load test) its queue can outlast the
 * cloud's requestTimeout without anything being wrong. The attempts stay the same;
 * each may wait longer. The tests keep the cloud's settings, except where a
 * suite fires a burst of transactions at once (DynamoDB Local runs them one
 * at a time).
 */
export const LOCAL_SERVER_DYNAMODB_SETTINGS: ClientSettings = { ...CLIENT_SETTINGS.dynamodb, connectionTimeout: 2_000, requestTimeout: 5_000 };

/** DynamoDB Local and the bench's stubs accept any credentials; never look for real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type Env = Record<string, string | undefined>;

const isTrue = (value: string | undefined): boolean => value?.trim().toLowerCase() === 'true';

/**
 * The settings each SDK client would otherwise resolve at its first call,
 * looking in the environment and then in the shared config files
 * (~/.aws/config), which a Lambda function does not have. Taken from the
 * environment alone, as the SDK would find them there; unset, the SDK's
 * defaults. Region and credentials are resolved in clientConfig.
 */
function environmentSettings(service: AwsService, env: Env) {
  return {
    useFipsEndpoint: isTrue(env.AWS_USE_FIPS_ENDPOINT),
    useDualstackEndpoint: isTrue(env.AWS_USE_DUALSTACK_ENDPOINT),
    defaultsMode: (env.AWS_DEFAULTS_MODE ?? 'legacy') as 'legacy' | 'standard' | 'in-region' | 'cross-region' | 'mobile' | 'auto',
    retryMode: env.AWS_RETRY_MODE ?? 'standard',
    authSchemePreference: (env.AWS_AUTH_SCHEME_PREFERENCE ?? '').split(',').map((scheme) => scheme.trim()).filter(Boolean),
    ...(env.AWS_SDK_UA_APP_ID ? { userAgentAppId: env.AWS_SDK_UA_APP_ID } : {}),
    ...(service === 'dynamodb'
      ? {
          accountIdEndpointMode: (env.AWS_ACCOUNT_ID_ENDPOINT_MODE ?? 'preferred') as 'disabled' | 'preferred' | 'required',
          endpointDiscoveryEnabled: isTrue(env.AWS_ENABLE_ENDPOINT_DISCOVERY),
        }
      : {}),
  };
}

/**
 * The configuration for one service's client. With `endpoint` (DynamoDB
 * Local, tests), local credentials and region. In Lambda, the role's
 * credentials straight from the environment, where Lambda puts them: the
 * rest of the SDK's default chain (profiles, SSO, web identity, instance
 * metadata) never applies there, and the bundles leave it out (BUNDLING in
 * lib/constructs/api-function.ts). Elsewhere, the SDK's defaults.
 */
export function clientConfig(service: AwsService, options: { endpoint?: string; settings?: ClientSettings } = {}, env: Env = process.env) {
  const { maxAttempts, connectionTimeout, requestTimeout } = options.settings ?? CLIENT_SETTINGS[service];
  // Without throwOnRequestTimeout the SDK's HTTP handler only logs a warning when requestTimeout passes.
  const base = { maxAttempts, requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true } };
  if (options.endpoint) {
    return { ...base, ...environmentSettings(service, env), endpoint: options.endpoint, region: env.AWS_REGION ?? 'local', credentials: LOCAL_CREDENTIALS };
  }
  if (env.AWS_LAMBDA_FUNCTION_NAME) {
    return { ...base, ...environmentSettings(service, env), ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}), credentials: fromEnv() };
  }
  return base;
}
