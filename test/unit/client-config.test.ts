import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { CLIENT_SETTINGS, clientConfig, longestRetryPauseMs } from '../../functions/adapters/aws/client-config';

const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'phone-link-relationPhone', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' };

describe('AWS client configuration', () => {
  it('gives each service its attempts and timeouts, the timeouts enforced', () => {
    const { maxAttempts, connectionTimeout, requestTimeout } = CLIENT_SETTINGS.dynamodb;
    expect(clientConfig('dynamodb', {}, {})).toEqual({ maxAttempts, requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true } });
    expect(clientConfig('sns', {}, {})).toMatchObject({ maxAttempts: 1, requestHandler: { requestTimeout: CLIENT_SETTINGS.sns.requestTimeout } });
  });

  // longestCallMs counts on the SDK's pauses between attempts staying below
  // longestRetryPauseMs: this holds the SDK to it, with its random pauses
  // drawn at their longest.
  const throttled = () =>
    Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  const timedOut = () => Object.assign(new Error('timed out'), { name: 'TimeoutError' });

  /** One DynamoDB call whose every attempt fails with `error`, before any network: its attempts and its pauses in all. */
  async function failingEveryAttempt(error: () => Error): Promise<{ attempts: number; totalRetryDelay: number }> {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.9999);
    const client = new DynamoDBClient(clientConfig('dynamodb', { endpoint: 'http://127.0.0.1:9' }));
    client.middlewareStack.add(
      () => async () => {
        throw error();
      },
      { step: 'finalizeRequest', priority: 'low', name: 'failEveryAttempt' },
    );
    const failure = await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })).then(
      () => ({ $metadata: { attempts: 0, totalRetryDelay: 0 } }),
      (caught: { $metadata: { attempts: number; totalRetryDelay: number } }) => caught,
    );
    client.destroy();
    random.mockRestore();
    return failure.$metadata;
  }

  const longestPauses = () =>
    Array.from({ length: CLIENT_SETTINGS.dynamodb.maxAttempts - 1 }, (_, i) => longestRetryPauseMs(i + 1)).reduce((a, b) => a + b, 0);

  it.each([
    { fault: 'throttling', error: throttled },
    { fault: 'a timeout', error: timedOut },
  ])('the SDK pauses no longer than longestRetryPauseMs between attempts that fail with $fault', async ({ error }) => {
    const { attempts, totalRetryDelay } = await failingEveryAttempt(error);
    expect(attempts).toBe(CLIENT_SETTINGS.dynamodb.maxAttempts);
    expect(totalRetryDelay).toBeLessThanOrEqual(longestPauses());
  });

  it('longestRetryPauseMs is the pause the SDK takes for throttling at its longest, not a loose guess', async () => {
    expect((await failingEveryAttempt(throttled)).totalRetryDelay).toBeGreaterThanOrEqual(0.99 * longestPauses());
  });

  describe('in Lambda', () => {
    const saved = { ...process.env };
    const dir = mkdtempSync(path.join(tmpdir(), 'aws-config-'));
    beforeAll(() => {
      // A shared config file that says otherwise: a plain SDK client would read it at its first call.
      writeFileSync(path.join(dir, 'config'), '[default]\nregion = ap-south-1\nuse_fips_endpoint = true\nretry_mode = adaptive\n');
      Object.assign(process.env, lambda, { AWS_CONFIG_FILE: path.join(dir, 'config') });
    });
    afterAll(() => {
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    });

    it('takes the credentials and every setting from the environment, never from the shared config files', async () => {
      const client = new DynamoDBClient(clientConfig('dynamodb'));
      const resolved = {
        region: await client.config.region(),
        fips: await client.config.useFipsEndpoint(),
        retryMode: await client.config.retryStrategy().then((strategy) => (strategy as { mode?: string }).mode),
        credentials: await client.config.credentials(),
      };
      client.destroy();
      expect(resolved).toMatchObject({ region: 'eu-west-1', fips: false, retryMode: 'standard', credentials: { accessKeyId: 'ASIAENV', sessionToken: 'env-token' } });

      // The file is real: a client left to the SDK's defaults follows it.
      const plain = new DynamoDBClient({});
      const followsFile = await plain.config.useFipsEndpoint();
      plain.destroy();
      expect(followsFile).toBe(true);
    });
  });

  it('still honours the SDK environment switches (FIPS, dual-stack, retry mode)', async () => {
    const config = clientConfig('sns', {}, { ...lambda, AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'TRUE', AWS_RETRY_MODE: 'adaptive' });
    expect(config).toMatchObject({ useFipsEndpoint: true, useDualstackEndpoint: true, retryMode: 'adaptive' });
    expect(config).not.toHaveProperty('accountIdEndpointMode');
    const client = new SNSClient(config);
    const endpoint = await client.config.endpointProvider({ Region: 'eu-west-1', UseFIPS: true, UseDualStack: true });
    client.destroy();
    expect(endpoint.url.hostname).toBe('sns-fips.eu-west-1.api.aws');
  });

  it('points at a local endpoint with local credentials', () => {
    expect(clientConfig('dynamodb', { endpoint: 'http://127.0.0.1:8000' }, {})).toMatchObject({
      endpoint: 'http://127.0.0.1:8000',
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
});
