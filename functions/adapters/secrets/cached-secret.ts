import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError, type SecretSource } from '../../config';
import { logger } from '../../observability';

/**
 * A secret's current value, to ask for on each request. Given as a value
 * (local development, tests), it is that value. Given as an ARN, it is read
 * from Secrets Manager through Powertools' cache, which expires after
 * `maxAgeSeconds` (POWERTOOLS_PARAMETERS_MAX_AGE): a rotated or re-issued
 * secret is picked up without a redeploy. The first read starts at once, so
 * the cold start overlaps it, and concurrent asks share one read.
 *
 * When a refresh fails (Secrets Manager out of reach), the last value read
 * stays in use, with a warning, and the refresh is tried again one cache
 * period later: an outage of Secrets Manager does not fail every request.
 * Only a first read that fails is an error. `client` is asked for only when
 * the secret is an ARN.
 */
export function cachedSecret(source: SecretSource, client: () => SecretsManagerClient, maxAgeSeconds: number): () => Promise<string> {
  if ('value' in source) {
    const value = Promise.resolve(source.value);
    return () => value;
  }
  const { secretArn } = source;
  const secrets = new SecretsProvider({ awsSdkV3Client: client() });
  let lastRead: string | undefined;
  let refreshAfter = 0;

  const readFresh = async (): Promise<string> => {
    const value = await secrets.get(secretArn, { maxAge: maxAgeSeconds });
    if (typeof value !== 'string' || value === '') throw new ConfigError(`Secret ${secretArn} holds no string value`);
    return value;
  };
  const readOrKeep = async (): Promise<string> => {
    if (lastRead !== undefined && Date.now() < refreshAfter) return lastRead;
    try {
      lastRead = await readFresh();
      return lastRead;
    } catch (error) {
      if (lastRead === undefined) throw error;
      refreshAfter = Date.now() + maxAgeSeconds * 1000;
      logger.warn('Secret refresh failed: the last value read stays in use', { secretArn, error: error instanceof Error ? error.message : String(error) });
      return lastRead;
    }
  };

  let reading: Promise<string> | undefined;
  const read = (): Promise<string> => (reading ??= readOrKeep().finally(() => (reading = undefined)));
  read().catch(() => undefined); // a failed first read is tried again by the first request
  return read;
}
