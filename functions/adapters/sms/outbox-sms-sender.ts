import type { SentSms, SmsSender } from '../../ports';

export interface OutboxMessage {
  readonly to: string;
  readonly text: string;
  readonly sentAt: string;
  /** Made up here, as a provider would give one: `outbox-<n>`, the n-th message since start. */
  readonly messageId: string;
}

/**
 * Local development's SMS provider: keeps every message in memory for
 * `GET /_local/outbox` and prints it, so the flow can be followed without a
 * phone. It accepts every message, so it never throws SmsRefused nor leaves
 * an outcome unknown; tests that need either swap `send`. Never used in the
 * cloud.
 */
export class OutboxSmsSender implements SmsSender {
  private readonly messages: OutboxMessage[] = [];

  constructor(
    private readonly print: (line: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async send(to: string, text: string): Promise<SentSms> {
    const message = { to, text, sentAt: new Date(this.now()).toISOString(), messageId: `outbox-${this.messages.length + 1}` };
    this.messages.push(message);
    this.print(`[sms] to ${to}: ${text}`);
    return { messageId: message.messageId };
  }

  /** Oldest first. */
  messagesTo(phone: string): OutboxMessage[] {
    return this.messages.filter((message) => message.to === phone);
  }
}
