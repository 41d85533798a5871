import type { Harness } from './harness';

/**
 * What must hold after any race or fault, over both tables:
 * - every phone claim's user exists, is not erased and has that phone;
 * - no erased user (tombstone) holds a phone;
 * - every user with a phone holds that phone's claim;
 * - no phone is on two users.
 * Returns the violations found (an empty list when the tables are consistent).
 */
export async function linkInvariantViolations(h: Harness): Promise<string[]> {
  const { users: items } = await h.snapshot();
  const users = new Map(items.filter((i) => String(i.pk).startsWith('USER#')).map((i) => [String(i.uid), i]));
  const claims = items.filter((i) => String(i.pk).startsWith('PHONE#'));
  const violations: string[] = [];
  for (const claim of claims) {
    const phone = String(claim.pk).slice('PHONE#'.length);
    const owner = users.get(String(claim.uid));
    if (!owner) violations.push(`claim ${phone} points at missing user ${String(claim.uid)}`);
    else if (owner.erasedAt !== undefined) violations.push(`claim ${phone} points at erased user ${String(claim.uid)}`);
    else if (owner.phone !== phone) violations.push(`claim ${phone} points at user ${String(claim.uid)} who has ${String(owner.phone)}`);
  }
  const claimed = new Map(claims.map((c) => [String(c.pk).slice('PHONE#'.length), String(c.uid)]));
  const holders = new Map<string, string[]>();
  for (const [uid, user] of users) {
    if (user.erasedAt !== undefined && user.phone !== undefined) violations.push(`erased user ${uid} holds ${String(user.phone)}`);
    if (user.phone === undefined) continue;
    const phone = String(user.phone);
    holders.set(phone, [...(holders.get(phone) ?? []), uid]);
    if (claimed.get(phone) !== uid) violations.push(`user ${uid} has ${phone} without its claim`);
  }
  for (const [phone, uids] of holders) if (uids.length > 1) violations.push(`${phone} is on ${uids.length} users`);
  return violations;
}
