import { PublishCommand, SNSServiceException, type SNSClient } from '@aws-sdk/client-sns';
import type { SmsSenderSettings } from '../../tunables';
import { SmsRefused, type SentSms, type SmsSender } from '../../ports';
import { maskedNumberIn, withNumberMasked } from './number-masking';

/**
 * Client faults that are no verdict on the message: SNS shedding load, or a
 * request it gave up reading. Whether the SMS went out is then treated as
 * unknown, so the cooldown and the caps keep counting while SNS is under
 * strain instead of letting the same request straight back in.
 */
const NOT_A_VERDICT = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'KMSThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * SNS answered that it will not publish this message: a fault of the request
 * (`$fault: 'client'`), such as InvalidParameter (a number SNS cannot text),
 * OptedOut, AuthorizationError (IAM, or the SMS sandbox), a disabled
 * endpoint. Anything else (a timeout, a dropped connection, a 5xx, an
 * answer the SDK could not read) leaves the outcome unknown.
 */
const isDefiniteRefusal = (error: unknown): error is SNSServiceException =>
  error instanceof SNSServiceException &&
  error.$fault === 'client' &&
  error.$metadata.httpStatusCode !== 429 &&
  !NOT_A_VERDICT.has(error.name);

/** Amazon SNS: Publish straight to a phone number, as a transactional SMS, sent once (client-config.ts). */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly config: SmsSenderSettings,
    private readonly client: SNSClient,
  ) {}

  async send(to: string, text: string): Promise<SentSms> {
    try {
      const { MessageId } = await this.client.send(
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
      return { messageId: MessageId };
    } catch (error) {
      if (isDefiniteRefusal(error)) {
        throw new SmsRefused(`SNS refused the Publish: ${error.name} (HTTP ${error.$metadata.httpStatusCode}): ${maskedNumberIn(error.message, to)}`);
      }
      throw withNumberMasked(error, to);
    }
  }
}
