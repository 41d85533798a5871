import { PinpointSMSVoiceV2ServiceException, SendTextMessageCommand, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SmsRefused, type SentSms, type SmsSender } from '../../ports';
import { maskedNumberIn, withNumberMasked } from './number-masking';

/** What the sender needs of the deployment (lib/constructs/sms-protection.ts makes the resources). */
export interface EndUserMessagingSmsSettings {
  /**
   * The configuration set, by name or ARN. It carries the protect
   * configuration (which countries may be texted), the default sender id and
   * message feedback, so a message sent with it is held to them.
   */
  readonly configurationSetName: string;
  /** The most one message may cost, in US dollars; a dearer one is not sent. Unset: no cap. */
  readonly maxPriceUsd?: number;
}

/**
 * Client faults that are no verdict on the message: the service shedding
 * load, a request it gave up reading, or an error answer the SDK could not
 * put a name to (no proof that the service refused anything). Whether the
 * SMS went out is then treated as unknown, so the cooldown and the caps keep
 * counting while the provider is under strain.
 */
const NOT_A_VERDICT = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'Unknown',
]);

/**
 * End User Messaging answered that it will not send this message: every
 * error it models for SendTextMessage that is a fault of the request
 * (ValidationException, ConflictException, AccessDeniedException,
 * ResourceNotFoundException, ServiceQuotaExceededException, whatever their
 * Reason) and the client faults it does not model (credentials it does not
 * accept). It answers these before it accepts the message: a message it
 * accepted has a MessageId and no error. Anything else (throttling, a
 * timeout, a dropped connection, a 5xx, an answer the SDK could not read)
 * leaves the outcome unknown.
 */
const isDefiniteRefusal = (error: unknown): error is PinpointSMSVoiceV2ServiceException =>
  error instanceof PinpointSMSVoiceV2ServiceException &&
  error.$fault === 'client' &&
  error.$metadata.httpStatusCode !== 429 &&
  !NOT_A_VERDICT.has(error.name);

/** The error's Reason (and the resource it names), where the service gives one: what an operator needs to act. */
function detailOf(error: PinpointSMSVoiceV2ServiceException): string {
  const { Reason, ResourceType } = error as { Reason?: unknown; ResourceType?: unknown };
  return [Reason, ResourceType].filter((part): part is string => typeof part === 'string').map((part) => ` ${part}`).join('');
}

/**
 * MaxPrice as the API takes it: a decimal string of US dollars, with a point
 * and at most five decimals (0.05 -> "0.05", 1 -> "1.0").
 */
export function maxPriceOf(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0 || usd >= 100 || Math.abs(usd * 1e5 - Math.round(usd * 1e5)) > 1e-6) {
    throw new RangeError(`The maximum price per SMS must be more than 0 and less than 100 US dollars, with at most 5 decimals, got ${usd}`);
  }
  const fixed = usd.toFixed(5).replace(/0+$/, '');
  return fixed.endsWith('.') ? `${fixed}0` : fixed;
}

/**
 * AWS End User Messaging SMS: SendTextMessage, transactional, through the
 * deployment's configuration set, with message feedback on and, when one is
 * set, the price cap. Sent once (client-config.ts).
 */
export class EndUserMessagingSmsSender implements SmsSender {
  private readonly maxPrice: string | undefined;

  constructor(
    private readonly settings: EndUserMessagingSmsSettings,
    private readonly client: PinpointSMSVoiceV2Client,
  ) {
    if (!settings.configurationSetName) throw new RangeError('End User Messaging needs a configuration set');
    this.maxPrice = settings.maxPriceUsd === undefined ? undefined : maxPriceOf(settings.maxPriceUsd);
  }

  async send(to: string, text: string): Promise<SentSms> {
    try {
      const { MessageId } = await this.client.send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: to,
          MessageBody: text,
          // One-time codes: the route that favours delivery over price.
          MessageType: 'TRANSACTIONAL',
          ConfigurationSetName: this.settings.configurationSetName,
          ...(this.maxPrice === undefined ? {} : { MaxPrice: this.maxPrice }),
          // So that a conversion can be reported against the MessageId (SmsFeedback).
          MessageFeedbackEnabled: true,
        }),
      );
      return { messageId: MessageId };
    } catch (error) {
      if (isDefiniteRefusal(error)) {
        throw new SmsRefused(
          `End User Messaging refused the SendTextMessage: ${error.name}${detailOf(error)} (HTTP ${error.$metadata.httpStatusCode}): ${maskedNumberIn(error.message, to)}`,
        );
      }
      throw withNumberMasked(error, to);
    }
  }
}
