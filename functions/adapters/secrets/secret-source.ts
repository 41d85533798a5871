import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, type SecretSource } from '../../config';

let client: SecretsManagerClient | undefined;

/** A secret's value: given directly, or read from Secrets Manager. */
export async function resolveSecret(source: SecretSource): Promise<string> {
  if ('value' in source) return source.value;
  client ??= new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: source.secretArn }));
  if (!SecretString) throw new ConfigError(`Secret ${source.secretArn} holds no string value`);
  return SecretString;
}
