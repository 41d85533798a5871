import { ResultCode, resultMessages } from './result-codes';

type RuleCode = Exclude<ResultCode, 200 | 400 | 500>;

/**
 * A business outcome other than success: the request was understood and
 * refused by a rule. The edge turns it into an HTTP 200 envelope with `code`.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ResultCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Refusal by one of the platform's documented codes (5002, 5019, ...). */
export class RuleViolation extends DomainError {
  constructor(code: RuleCode, options?: { cause: unknown }) {
    super(code, resultMessages[code]);
    if (options) this.cause = options.cause;
    this.name = 'RuleViolation';
  }
}

/** A parameter the platform documents no code for: `400 Invalid parameter: <name>`. */
export class InvalidParameter extends DomainError {
  constructor(readonly parameter: string) {
    super(ResultCode.InvalidParameter, `Invalid parameter: ${parameter}`);
    this.name = 'InvalidParameter';
  }
}

export const refuse = (code: RuleCode): never => {
  throw new RuleViolation(code);
};
