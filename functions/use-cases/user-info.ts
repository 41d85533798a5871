import { refuse } from '../domain/errors';
import { ResultCode } from '../domain/result-codes';
import type { Users } from '../ports';

export interface UserInfo {
  readonly uid: string;
  /** National number, or null when no phone is linked. */
  readonly phone: string | null;
  /** Calling code digits (`"86"`), or null. */
  readonly internationalCode: string | null;
  readonly phoneLinkedAt: string | null;
}

/** GET /v2/enduser/enduserapi/userInfo: the signed-in user. */
export async function userInfo(uid: string, deps: { users: Users }): Promise<UserInfo> {
  const user = (await deps.users.find(uid)) ?? refuse(ResultCode.UserDoesNotExist);
  return {
    uid: user.uid,
    phone: user.phone?.nationalNumber ?? null,
    internationalCode: user.phone?.callingCode ?? null,
    phoneLinkedAt: user.phone ? (user.phoneLinkedAt ?? null) : null,
  };
}
