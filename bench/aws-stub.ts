import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stands in for the two AWS services a cold start talks to besides DynamoDB,
 * so the cold-start processes run their real success paths with no AWS
 * account: SNS `Publish` (awsQuery, XML) and Secrets Manager
 * `GetSecretValue` (awsJson 1.1). The functions reach it through the SDK's
 * own `AWS_ENDPOINT_URL_SNS` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` variables.
 */
export interface AwsStub {
  readonly endpoint: string;
  /** The secret holding the code pepper. */
  readonly pepperArn: string;
  /** SMS texts published, by phone number. */
  readonly published: Map<string, string[]>;
  close(): Promise<void>;
}

const PEPPER_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-code-pepper';

export async function startAwsStub(pepper: string): Promise<AwsStub> {
  const secrets: Readonly<Record<string, string>> = { [PEPPER_ARN]: pepper };
  const published = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = req.headers['x-amz-target'];
      if (target === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        const value = secrets[SecretId];
        if (value === undefined) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: SecretId, Name: SecretId, SecretString: value, VersionId: randomUUID(), CreatedDate: Date.now() / 1000 }));
        return;
      }
      const form = new URLSearchParams(body);
      if (form.get('Action') === 'Publish') {
        const to = form.get('PhoneNumber') ?? '';
        published.set(to, [...(published.get(to) ?? []), form.get('Message') ?? '']);
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
            `<MessageId>${randomUUID()}</MessageId></PublishResult>` +
            `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
        return;
      }
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bench AWS stub: unsupported call');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pepperArn: PEPPER_ARN,
    published,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
