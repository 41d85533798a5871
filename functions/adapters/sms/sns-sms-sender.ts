import { AwsHttpClient, AwsServiceError, requestIdOf, type AwsProtocol } from '../aws/aws-http-client';
import type { SmsConfig } from '../../config';
import type { SmsSender } from '../../ports';

/** The awsQuery protocol of SNS: a form in, XML out; only the error code is read from the XML. */
const sns: AwsProtocol<Record<string, string>, void> = {
  signingName: 'sns',
  endpointId: 'SNS',
  encode: (operation, input) => ({
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Action: operation, Version: '2010-03-31', ...input }).toString(),
  }),
  decode: () => undefined,
  error: (answer) => {
    const field = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(answer.body)?.[1];
    return new AwsServiceError(
      field('Code') ?? `Http${answer.status}`,
      field('Message') ?? `HTTP ${answer.status}`,
      answer.status,
      requestIdOf(answer) ?? field('RequestId'),
    );
  },
};

/** Amazon SNS: Publish straight to a phone number, as a transactional SMS. */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly config: SmsConfig,
    // SNS may take a second or two to accept an SMS: 3 s per attempt. A
    // Publish is never sent twice after a timeout (a second SMS would cost
    // money and confuse); a refusal for throttling or a 5xx is retried once.
    private readonly client = new AwsHttpClient({ requestTimeoutMs: 3_000, maxAttempts: 2 }),
  ) {}

  async send(to: string, text: string): Promise<void> {
    const attributes: [string, string][] = [
      // Transactional: higher delivery priority, for one-time codes.
      ['AWS.SNS.SMS.SMSType', 'Transactional'],
      ...(this.config.senderId ? [['AWS.SNS.SMS.SenderID', this.config.senderId] as [string, string]] : []),
    ];
    const form: Record<string, string> = { PhoneNumber: to, Message: text };
    attributes.forEach(([name, value], index) => {
      const entry = `MessageAttributes.entry.${index + 1}`;
      form[`${entry}.Name`] = name;
      form[`${entry}.Value.DataType`] = 'String';
      form[`${entry}.Value.StringValue`] = value;
    });
    await this.client.call(sns, 'Publish', form, { idempotent: false });
  }
}
