import { messageText } from './messages';
import { ResultCode } from './result-codes';

type RuleCode = Exclude<ResultCode, 200 | 400 | 500>;

/**
 * A business outcome other than success: the request was understood and
 * refused by a rule. The edge turns it into an HTTP 200 envelope with `code`,
 * its `msg` in the request's language; `message` is the English text for logs.
 */
export class DomainError extends Error {
  constructor(
    readonly code: RuleCode | 400,
    /** Fills `{parameter}` in the message. */
    readonly parameter?: string,
  ) {
    super(messageText('en', code, parameter));
    this.name = 'DomainError';
  }
}

/** Refusal by one of the platform's documented codes (5002, 5019, ...). */
export class RuleViolation extends DomainError {
  constructor(code: RuleCode, options?: { cause: unknown }) {
    super(code);
    this.name = 'RuleViolation';
    if (options) this.cause = options.cause;
  }
}

/** A parameter the platform documents no code for: `400 Invalid parameter: <name>`. */
export class InvalidParameter extends DomainError {
  constructor(parameter: string) {
    super(ResultCode.InvalidParameter, parameter);
    this.name = 'InvalidParameter';
  }
}

export const refuse = (code: RuleCode): never => {
  throw new RuleViolation(code);
};

/**
 * The request could not get its turn among the same user's concurrent
 * requests (parallel links, unlinks, admin calls) within its time budget:
 * 5058, as the contract says, and not a fault. Its own class, so that
 * metrics and logs tell it from a send limit.
 */
export class NoTurnInTime extends RuleViolation {
  constructor() {
    super(ResultCode.SmsFrequencyLimited);
    this.name = 'NoTurnInTime';
  }
}
