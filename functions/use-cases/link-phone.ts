import type { Clock } from '../clock';
import type { UserProvisioning } from '../domain/user-provisioning';
import { refuse } from '../domain/errors';
import type { PhoneNumber } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import type { CodePurpose, StoredCode } from '../domain/verification-code';
import type { CodeProof, PhoneLinks } from '../ports';
import { Turns } from '../backoff';
import { Deadline } from '../request-budget';
import { knownUser } from './known-user';

/** Proven by a codeType 3 code (or its alias 6). */
export const LINK_PURPOSE: CodePurpose = 'link';

/** The code a user typed to prove the phone: how to judge it against the stored one, and what to consume. */
export interface TypedCode {
  /** Six digits: only then is the stored code read. */
  readonly wellFormed: boolean;
  /** Refuses (5037, counting a wrong try) unless it matches the stored code. */
  verify(stored: StoredCode | undefined, now: number): Promise<void>;
  readonly proof: CodeProof;
}

export interface LinkRequest {
  readonly uid: string;
  readonly phone: PhoneNumber;
  /** The code the user typed (relationPhone); none for the admin link. */
  readonly code?: TypedCode;
  readonly provisioning: UserProvisioning;
  /** The request's; a whole budget from now when called outside one. */
  readonly deadline?: Deadline;
}

export interface LinkDependencies {
  readonly links: Pick<PhoneLinks, 'findUserWithCode' | 'linkPhone'>;
  readonly clock: Clock;
}

/** 'already-linked': the user had that phone already, so nothing was written (admin link only). */
export type LinkResult = 'linked' | 'already-linked';

/**
 * The linking step that relationPhone and the admin link share: read the
 * user (and the code), check them in the contract's order (5033, 5037,
 * then 5002), then consume the code, claim the phone, update or create the
 * user and free its old phone, all or nothing (PhoneLinks.linkPhone). A
 * user that changed meanwhile (the same user's concurrent requests) is read
 * again, after a pause, for as long as the request's deadline allows (then
 * 5058).
 */
export async function linkPhoneToUser(request: LinkRequest, deps: LinkDependencies): Promise<LinkResult> {
  const { uid, phone, code } = request;
  const deadline = request.deadline ?? Deadline.fullBudgetFromNow();
  const turns = new Turns(deadline);
  for (;;) {
    const now = deps.clock.now();
    const found = await deps.links.findUserWithCode(uid, code?.wellFormed ? { phone, purpose: LINK_PURPOSE } : undefined);
    const user = knownUser(uid, found.user, request.provisioning);
    if (code) {
      if (!code.wellFormed) refuse(ResultCode.SmsCodeFailed);
      await code.verify(found.code, now);
    } else if (user.phone?.e164 === phone.e164) {
      return 'already-linked';
    }

    // The code is checked before the owner: only someone holding the phone learns it is taken.
    const outcome = await deps.links.linkPhone({
      uid,
      isNewUser: user.isNewUser,
      previousPhone: user.phone,
      phone,
      proof: code?.proof,
      now,
      deadline,
    });
    if (outcome === 'linked') return 'linked';
    if (outcome === 'code-rejected') refuse(ResultCode.SmsCodeFailed);
    if (outcome === 'phone-taken') refuse(ResultCode.PhoneAlreadyRegistered);
    await turns.next();
  }
}
