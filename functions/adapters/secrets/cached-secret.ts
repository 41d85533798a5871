import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError, readSecretsMaxAgeSeconds, type SecretSource } from '../../config';
import { clientConfig } from '../aws/client-config';

let provider: SecretsProvider | undefined;

/**
 * A secret's current value, to ask for on each request. Given as a value
 * (local development, tests), it is that value. Given as an ARN, it is read
 * from Secrets Manager through Powertools' cache, which expires after
 * `maxAgeSeconds` (POWERTOOLS_PARAMETERS_MAX_AGE): a rotated or re-issued secret is picked up without a
 * redeploy. The first read starts at once, so the cold start overlaps it,
 * and concurrent asks share one read.
 */
export function cachedSecret(source: SecretSource, maxAgeSeconds = readSecretsMaxAgeSeconds()): () => Promise<string> {
  if ('value' in source) {
    const value = Promise.resolve(source.value);
    return () => value;
  }
  const { secretArn } = source;
  provider ??= new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(clientConfig('secretsManager')) });
  const secrets = provider;
  let reading: Promise<string> | undefined;
  const read = (): Promise<string> =>
    (reading ??= secrets
      .get(secretArn, { maxAge: maxAgeSeconds })
      .then((value) => {
        if (typeof value !== 'string' || value === '') throw new ConfigError(`Secret ${secretArn} holds no string value`);
        return value;
      })
      .finally(() => (reading = undefined)));
  read().catch(() => undefined); // a failed first read is tried again by the first request
  return read;
}
