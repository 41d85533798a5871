/**
 * The small interfaces the use cases depend on. Adapters (DynamoDB, SNS, the
 * local outbox, jose) implement them; tests can swap any of them.
 */
import type { SendLimits } from './config';
import type { PhoneNumber } from './domain/phone';
import type { CodeType, StoredCode } from './domain/verification-code';

export interface User {
  readonly uid: string;
  readonly phone?: PhoneNumber;
  /** ISO 8601 time of the last link. */
  readonly phoneLinkedAt?: string;
}

/** A code about to be issued, with everything needed to take it back. */
export interface CodeIssue {
  readonly phone: PhoneNumber;
  readonly codeType: CodeType;
  readonly codeHash: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly sourceIp: string;
  readonly userDomain: string;
  readonly random: string;
  /** How long the `random` stays used. */
  readonly nonceExpiresAt: number;
}

export type IssueOutcome = 'issued' | 'replayed' | 'rate-limited';

export interface VerificationCodes {
  /**
   * Uses up the `random`, then stores the code as the latest for its
   * (phone, codeType) and counts it against the cooldown and the caps, all
   * with conditional writes: 'replayed' when the `random` was used,
   * 'rate-limited' when a limit refuses it (the `random` is used up anyway).
   */
  issue(issue: CodeIssue, limits: SendLimits): Promise<IssueOutcome>;
  /** Undoes `issue` after the SMS provider failed: no code left, nothing counted. */
  withdraw(issue: CodeIssue): Promise<void>;
  /** The latest code for (phone, codeType), read consistently. */
  find(phone: PhoneNumber, codeType: CodeType): Promise<StoredCode | undefined>;
  /** Counts one wrong try against the stored code if it is still that code. */
  recordWrongTry(phone: PhoneNumber, codeType: CodeType, storedHash: string): Promise<void>;
}

export interface LinkAttempt {
  readonly uid: string;
  /** The phone the user had when read: the link only applies if it still has it. */
  readonly previousPhone: PhoneNumber | undefined;
  readonly phone: PhoneNumber;
  readonly codeType: CodeType;
  /** The stored hash the candidate matched: consumed only if still stored. */
  readonly codeHash: string;
  /** The code is void once it has this many wrong tries. */
  readonly maxWrongTries: number;
  readonly now: number;
}

/**
 * 'code-rejected': the code changed meanwhile (used, replaced, voided);
 * 'phone-taken': another user holds the phone; 'conflict': the user's record
 * changed or a concurrent transaction collided, so the caller may re-read.
 */
export type LinkOutcome = 'linked' | 'code-rejected' | 'phone-taken' | 'conflict';

export interface Users {
  find(uid: string): Promise<User | undefined>;
  /** Creates the user unless it exists (local development only). */
  ensure(uid: string): Promise<void>;
}

/** Phone links span both tables: a link consumes a code and claims a phone for a user. */
export interface PhoneLinks {
  /** One consistent read of the user and, when asked, the latest code for (phone, codeType). */
  findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; codeType: CodeType } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }>;
  /** Consumes the code, claims the phone, updates the user and frees the old claim, atomically. */
  linkPhone(attempt: LinkAttempt): Promise<LinkOutcome>;
  /** Consumes the code, releases the phone's claim and clears the user's phone, atomically. */
  unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome>;
}

export interface UnlinkAttempt {
  readonly uid: string;
  /** The phone the user had when read: the unlink only applies if it still has it. */
  readonly phone: PhoneNumber;
  readonly codeType: CodeType;
  readonly codeHash: string;
  readonly maxWrongTries: number;
  readonly now: number;
}

/** 'code-rejected': the code changed meanwhile; 'conflict': the user or claim changed, re-read. */
export type UnlinkOutcome = 'unlinked' | 'code-rejected' | 'conflict';

export interface SmsSender {
  /** Resolves once the provider accepted the message; rejects otherwise. */
  send(to: string, text: string): Promise<void>;
}

/** Thrown by a TokenVerifier for a token it refuses (as opposed to a fault of its own). */
export class InvalidToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidToken';
  }
}

export interface TokenVerifier {
  /** The user id of a valid access token; throws for any other token. */
  verify(token: string): Promise<{ uid: string }>;
}
