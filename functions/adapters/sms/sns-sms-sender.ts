import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SmsConfig } from '../../config';
import type { SmsSender } from '../../ports';
import { clientConfig } from '../aws/client-config';

/** Amazon SNS: Publish straight to a phone number, as a transactional SMS. */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly config: SmsConfig,
    private readonly client = new SNSClient(clientConfig('sns')),
  ) {}

  async send(to: string, text: string): Promise<void> {
    await this.client.send(
      new PublishCommand({
        PhoneNumber: to,
        Message: text,
        MessageAttributes: {
          // Transactional: higher delivery priority, for one-time codes.
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          ...(this.config.senderId ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: this.config.senderId } } : {}),
        },
      }),
    );
  }
}
