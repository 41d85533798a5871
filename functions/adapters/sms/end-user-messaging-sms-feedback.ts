import { PutMessageFeedbackCommand, ResourceNotFoundException, ValidationException, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { FeedbackOutcome, SmsFeedback } from '../../ports';

/**
 * Message feedback to AWS End User Messaging SMS: PutMessageFeedback with
 * RECEIVED. Safe to send again, so the SDK retries what it can
 * (client-config.ts), and a caller may too.
 */
export class EndUserMessagingSmsFeedback implements SmsFeedback {
  constructor(private readonly client: PinpointSMSVoiceV2Client) {}

  async reportConverted(messageId: string): Promise<FeedbackOutcome> {
    try {
      await this.client.send(new PutMessageFeedbackCommand({ MessageId: messageId, MessageFeedbackStatus: 'RECEIVED' }));
      return 'reported';
    } catch (error) {
      // A message id it does not know, or one it refuses as given: asking again changes nothing.
      if (error instanceof ResourceNotFoundException || error instanceof ValidationException) return 'rejected';
      throw error;
    }
  }
}
