import type { UserProvisioning } from '../domain/user-provisioning';
import { refuse } from '../domain/errors';
import { ResultCode } from '../domain/result-codes';
import type { User } from '../ports';

/** A user this service answers for: its record, or a new one known on first use (no record yet). */
export interface KnownUser extends User {
  readonly isNewUser: boolean;
}

/**
 * The user a valid token (or an admin request) stands for, as docs/API.md
 * "Users" defines it: an erased uid is 5033 whatever the token says; a uid
 * never seen is a user with no phone on first use, and 5033 where users
 * must be registered first.
 */
export function knownUser(uid: string, record: User | undefined, provisioning: UserProvisioning): KnownUser {
  if (record?.erasedAt !== undefined) return refuse(ResultCode.UserDoesNotExist);
  if (record) return { ...record, isNewUser: false };
  if (provisioning === 'registered') return refuse(ResultCode.UserDoesNotExist);
  return { uid, isNewUser: true };
}
