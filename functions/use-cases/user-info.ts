import type { UserProvisioning } from '../domain/user-provisioning';
import type { User, Users } from '../ports';
import { knownUser } from './known-user';

export interface UserInfo {
  readonly uid: string;
  /** National number, or null when no phone is linked. */
  readonly phone: string | null;
  /** Calling code digits (`"86"`), or null. */
  readonly internationalCode: string | null;
  readonly phoneLinkedAt: string | null;
}

/** GET /v2/enduser/enduserapi/userInfo: the signed-in user. A user known on first use is read, never written. */
export async function userInfo(uid: string, deps: { users: Pick<Users, 'find'>; provisioning: UserProvisioning }): Promise<UserInfo> {
  return phoneView(knownUser(uid, await deps.users.find(uid), deps.provisioning));
}

/** The user's phone as the contract shows it: the national number and calling code apart, or nulls. */
export const phoneView = (user: User): UserInfo => ({
  uid: user.uid,
  phone: user.phone?.nationalNumber ?? null,
  internationalCode: user.phone?.callingCode ?? null,
  phoneLinkedAt: user.phone ? (user.phoneLinkedAt ?? null) : null,
});
