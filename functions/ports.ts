/**
 * The small interfaces the use cases depend on. Adapters (DynamoDB, SNS, the
 * local outbox, jose) implement them; tests can swap any of them.
 */
import type { SendLimits } from './domain/send-limits';
import type { NormalizedPhone, PhoneNumber } from './domain/phone';
import type { CodePurpose, StoredCode } from './domain/verification-code';
import type { Deadline } from './request-budget';

/** A user's record: an active user, or the tombstone of an erased one (`erasedAt` set, nothing else kept). */
export interface User {
  readonly uid: string;
  readonly phone?: PhoneNumber;
  /** ISO 8601 time of the last link. */
  readonly phoneLinkedAt?: string;
  /** ISO 8601 time of the erasure: the uid is a tombstone until its retention ends. */
  readonly erasedAt?: string;
}

/** A code about to be issued, with everything needed to take it back. */
export interface CodeIssue {
  readonly phone: NormalizedPhone;
  readonly purpose: CodePurpose;
  readonly codeHash: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly sourceIp: string;
  readonly userDomain: string;
  readonly random: string;
  /** How long the `random` stays used. */
  readonly nonceExpiresAt: number;
}

/** The breakers over all sends: one per destination country, and the global one. */
export type Breaker = 'country' | 'global';

/** An issued code, with what it was counted on, so that it can be taken back exactly. */
export interface IssuedCode {
  readonly issue: CodeIssue;
  /** Which share of the global breaker counted it (the issuer's own bookkeeping). */
  readonly globalShard: number;
}

export type IssueOutcome =
  | { readonly kind: 'issued'; readonly issued: IssuedCode }
  | { readonly kind: 'replayed' }
  /** `trippedBreakers`: the breakers known to be full, if a breaker is what refused it. */
  | { readonly kind: 'rate-limited'; readonly trippedBreakers: readonly Breaker[] };

/** Issuing a code: the request's nonce, the code itself and the send limits, decided together. */
export interface CodeIssuer {
  /**
   * Uses up the `random`, then stores the code as the latest for its
   * (phone, purpose) and counts it against the cooldown and the caps:
   * 'replayed' when the `random` was used already, 'rate-limited' when a
   * limit refuses it, or it kept colliding with other sends until the
   * deadline (the `random` is used up anyway).
   */
  issue(issue: CodeIssue, limits: SendLimits, deadline?: Deadline): Promise<IssueOutcome>;
  /** Undoes `issue` after the SMS provider refused the message: no code left, nothing counted. */
  withdraw(issued: IssuedCode, deadline?: Deadline): Promise<void>;
}

/** The latest code per (phone, purpose). */
export interface VerificationCodes {
  /** The latest code for (phone, purpose), read consistently. */
  find(phone: PhoneNumber, purpose: CodePurpose): Promise<StoredCode | undefined>;
  /** Counts one wrong try against the stored code if it is still that code; collisions are retried within the deadline. */
  recordWrongTry(phone: PhoneNumber, purpose: CodePurpose, storedHash: string, deadline?: Deadline): Promise<void>;
}

export interface Users {
  /** The user's record, a tombstone included, read consistently. */
  find(uid: string): Promise<User | undefined>;
  /** Registers the uid: a new or erased one becomes a user with no phone; an existing user stays as it is. Answers the user as it stands. */
  register(uid: string, now: number): Promise<User>;
}

/** A code proving a purpose for a phone: what a link or an unlink consumes. */
export interface CodeProof {
  readonly purpose: CodePurpose;
  /** The stored hash the candidate matched: consumed only if still stored. */
  readonly codeHash: string;
  /** The code is void once it has this many wrong tries. */
  readonly maxWrongTries: number;
}

export interface LinkAttempt {
  readonly uid: string;
  /** No record when read (a user known on first use): the link creates it, if it still does not exist. */
  readonly isNewUser: boolean;
  /** The phone the user had when read: the link only applies if it still has it. */
  readonly previousPhone: PhoneNumber | undefined;
  readonly phone: PhoneNumber;
  /** The code the link consumes; none for the admin link. */
  readonly proof: CodeProof | undefined;
  readonly now: number;
  /** The request's: an operation of several writes takes no step past it. A whole budget from the start when absent. */
  readonly deadline?: Deadline;
}

/**
 * 'code-rejected': the code changed meanwhile (used, replaced, voided);
 * 'phone-taken': another user holds the phone; 'conflict': the user's record
 * changed, or another write on it was under way, so the caller may re-read.
 */
export type LinkOutcome = 'linked' | 'code-rejected' | 'phone-taken' | 'conflict';

export interface UnlinkAttempt {
  readonly uid: string;
  /** The phone the user had when read: the unlink only applies if it still has it. */
  readonly phone: PhoneNumber;
  readonly proof: CodeProof;
  readonly now: number;
  /** As LinkAttempt's. */
  readonly deadline?: Deadline;
}

/** 'code-rejected': the code changed meanwhile; 'conflict': the user or claim changed, re-read. */
export type UnlinkOutcome = 'unlinked' | 'code-rejected' | 'conflict';

export interface ErasureAttempt {
  readonly uid: string;
  /** No record when read: the tombstone is written only if there still is none. */
  readonly isNewUser: boolean;
  /** The phone the user had when read: its claim is released, provided the user still has it. */
  readonly phone: PhoneNumber | undefined;
  readonly now: number;
  /** When the tombstone may be removed (by TTL, or on a multi-Region table by the reconciler), in ms. */
  readonly retainUntil: number;
  /** As LinkAttempt's. */
  readonly deadline?: Deadline;
}

/** 'conflict': the user changed since it was read (a link, an unlink), re-read. */
export type ErasureOutcome = 'erased' | 'conflict';

/**
 * Phone links span both tables: a link consumes a code and claims a phone
 * for a user. Each change below is all or nothing: one transaction
 * (PHONE_LINKS_MODE=transactions), or ordered writes (ordered-writes, for a
 * multi-Region table) that undo themselves when a step fails, and that a
 * later request or the reconciler finishes or rolls back after a crash.
 */
export interface PhoneLinks {
  /** One consistent read of the user and, when asked, the latest code for (phone, purpose). */
  findUserWithCode(
    uid: string,
    code: { phone: PhoneNumber; purpose: CodePurpose } | undefined,
  ): Promise<{ user: User | undefined; code: StoredCode | undefined }>;
  /** Consumes the code (if any), claims the phone, updates (or creates) the user and frees the old claim. */
  linkPhone(attempt: LinkAttempt): Promise<LinkOutcome>;
  /** Consumes the code, releases the phone's claim and clears the user's phone. */
  unlinkPhone(attempt: UnlinkAttempt): Promise<UnlinkOutcome>;
  /** Releases the phone's claim and replaces the user with a tombstone. */
  eraseUser(attempt: ErasureAttempt): Promise<ErasureOutcome>;
}

/**
 * The SMS provider. What a failed send leaves behind depends on whether the
 * message can have gone out, so a sender tells the two failures apart.
 */
export interface SmsSender {
  /**
   * Resolves once the provider accepted the message, with what it said of
   * it. Throws SmsRefused when the provider answered that it will not
   * deliver it; any other error is an unknown outcome: the SMS may have
   * reached the phone.
   */
  send(to: string, text: string): Promise<SentSms>;
}

/** A message the provider accepted. */
export interface SentSms {
  /** The provider's id of the message, by which a conversion can be reported to it later (SmsFeedback). */
  readonly messageId?: string;
}

/** A conversion report, as the provider took it: 'rejected' when it never will (a message it does not know, or takes no feedback for). */
export type FeedbackOutcome = 'reported' | 'rejected';

/**
 * Message feedback: tells the SMS provider that a message reached its phone,
 * which a code used proves. Off the request's path.
 */
export interface SmsFeedback {
  /**
   * Reports the message (SentSms.messageId) as received. Throws when the
   * outcome is unknown (throttling, a fault of the provider, a timeout), for
   * the caller to try again: reporting the same message twice is harmless.
   */
  reportConverted(messageId: string): Promise<FeedbackOutcome>;
}

/**
 * Thrown by an SmsSender when the provider definitely refused the message
 * (an invalid or opted-out number, a request it does not accept): nothing
 * went out. `reason` names the provider's answer, with no phone number in it.
 */
export class SmsRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SmsRefused';
  }
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
