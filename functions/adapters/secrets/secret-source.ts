import { AwsHttpClient, awsJsonProtocol } from '../aws/aws-http-client';
import { ConfigError, type SecretSource } from '../../config';

const secretsManager = awsJsonProtocol<{ SecretId: string }, { SecretString?: string }>({
  signingName: 'secretsmanager',
  endpointId: 'SECRETS_MANAGER',
  version: '1.1',
  targetPrefix: 'secretsmanager',
});

let client: AwsHttpClient | undefined;

/** A secret's value: given directly, or read from Secrets Manager. */
export async function resolveSecret(source: SecretSource): Promise<string> {
  if ('value' in source) return source.value;
  client ??= new AwsHttpClient();
  const { SecretString } = await client.call(secretsManager, 'GetSecretValue', { SecretId: source.secretArn }, { idempotent: true });
  if (!SecretString) throw new ConfigError(`Secret ${source.secretArn} holds no string value`);
  return SecretString;
}
