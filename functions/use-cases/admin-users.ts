import type { Clock } from '../clock';
import { refuse } from '../domain/errors';
import { normalizePhone, type PhoneRules } from '../domain/phone';
import { ResultCode } from '../domain/result-codes';
import { parseUserId } from '../domain/user-id';
import type { PhoneLinks, User, Users } from '../ports';
import { Turns } from '../backoff';
import { Deadline } from '../request-budget';
import { linkPhoneToUser } from './link-phone';
import { given } from './parameters';
import { phoneView, type UserInfo } from './user-info';

/**
 * The admin interface (docs/API.md "Admin interface"): for the login service,
 * support staff and the import, never for apps. Every route starts with the
 * uid of its path: 400 "Invalid parameter: uid" for any other shape.
 */
export interface AdminDependencies {
  readonly users: Pick<Users, 'find' | 'register'>;
  readonly links: Pick<PhoneLinks, 'findUserWithCode' | 'linkPhone' | 'eraseUser'>;
  readonly clock: Clock;
  /** The admin link sends no SMS, so the SMS country allow-list does not apply to it. */
  readonly phoneRules: Pick<PhoneRules, 'domesticCallingCode'>;
  readonly erasedUserRetentionDays: number;
}

export interface AdminUserView extends UserInfo {
  readonly erasedAt: string | null;
  /** False for a uid never seen, or erased. */
  readonly exists: boolean;
}

const DAY_MS = 86_400_000;

/** GET /admin/v1/users/{uid} */
export async function getUser(rawUid: string | undefined, deps: Pick<AdminDependencies, 'users'>): Promise<AdminUserView> {
  const uid = parseUserId(rawUid);
  return adminView(uid, await deps.users.find(uid));
}

/** PUT /admin/v1/users/{uid}: idempotent; an erased uid is registered afresh, with no phone. */
export async function registerUser(rawUid: string | undefined, deps: Pick<AdminDependencies, 'users' | 'clock'>): Promise<AdminUserView> {
  const uid = parseUserId(rawUid);
  return adminView(uid, await deps.users.register(uid, deps.clock.now()));
}

const adminView = (uid: string, record: User | undefined): AdminUserView => ({
  ...phoneView(record ?? { uid }),
  erasedAt: record?.erasedAt ?? null,
  exists: record !== undefined && record.erasedAt === undefined,
});

export interface AdminLinkRequest {
  readonly uid: string | undefined;
  readonly phone?: string;
  readonly internationalCode?: string;
  /** The request's; a whole budget from now when called outside one. */
  readonly deadline?: Deadline;
}

/**
 * PUT /admin/v1/users/{uid}/phone: relationPhone's linking step without a
 * code. Checks: uid (400) · 5021 · 5019 · 5033 (erased) · 5002. A uid not
 * known yet is registered by it; a user that has the phone already is left
 * as it is (`alreadyLinked`), so an import can be run again.
 */
export async function linkPhoneAsAdmin(
  request: AdminLinkRequest,
  deps: AdminDependencies,
): Promise<{ uid: string; phone: string; internationalCode: string; alreadyLinked: boolean }> {
  const uid = parseUserId(request.uid);
  const phoneText = given(request.phone) ?? refuse(ResultCode.PhoneRequired);
  const phone = normalizePhone(phoneText, given(request.internationalCode), deps.phoneRules);
  const result = await linkPhoneToUser({ uid, phone, provisioning: 'on-first-use', deadline: request.deadline }, deps);
  return { uid, phone: phone.nationalNumber, internationalCode: phone.callingCode, alreadyLinked: result === 'already-linked' };
}

/**
 * DELETE /admin/v1/users/{uid}: releases the phone's claim and leaves a
 * tombstone (PhoneLinks.eraseUser), so the number is free at once and the
 * uid answers 5033 until the tombstone's retention ends. Idempotent: an
 * erased uid stays as erased then; a uid never seen is tombstoned all the
 * same. A user that changed meanwhile is read again, within the request's
 * deadline.
 */
export async function eraseUser(
  rawUid: string | undefined,
  deps: AdminDependencies,
  deadline: Deadline = Deadline.fullBudgetFromNow(),
): Promise<{ uid: string; erasedAt: string }> {
  const uid = parseUserId(rawUid);
  const turns = new Turns(deadline);
  for (;;) {
    const record = await deps.users.find(uid);
    if (record?.erasedAt !== undefined) return { uid, erasedAt: record.erasedAt };
    const now = deps.clock.now();
    const outcome = await deps.links.eraseUser({
      uid,
      isNewUser: record === undefined,
      phone: record?.phone,
      now,
      retainUntil: now + deps.erasedUserRetentionDays * DAY_MS,
      deadline,
    });
    if (outcome === 'erased') return { uid, erasedAt: new Date(now).toISOString() };
    await turns.next();
  }
}
