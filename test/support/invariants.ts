import type { Harness } from './harness';

type Item = Record<string, unknown>;

const isUser = (item: Item): boolean => String(item.pk).startsWith('USER#');
const isClaim = (item: Item): boolean => String(item.pk).startsWith('PHONE#');
const phoneOfClaim = (claim: Item): string => String(claim.pk).slice('PHONE#'.length);

/** Phones held by more than one user: what must never happen, even mid-operation or after a crash. */
export function phonesOnTwoUsers(items: readonly Item[]): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  for (const user of items.filter(isUser)) {
    if (typeof user.phone !== 'string') continue;
    holders.set(user.phone, [...(holders.get(user.phone) ?? []), String(user.uid)]);
  }
  return new Map([...holders].filter(([, uids]) => uids.length > 1));
}

/**
 * What must hold after any race or fault, over the items of a users table:
 * - every phone claim's user exists, is not erased and has that phone;
 * - no erased user (tombstone) holds a phone;
 * - every user with a phone holds that phone's claim;
 * - no phone is on two users.
 * Returns the violations found (an empty list when the table is consistent).
 */
export function linkInvariantViolationsIn(items: readonly Item[]): string[] {
  const users = new Map(items.filter(isUser).map((item) => [String(item.uid), item]));
  const claims = items.filter(isClaim);
  const violations: string[] = [];
  for (const claim of claims) {
    const phone = phoneOfClaim(claim);
    const owner = users.get(String(claim.uid));
    if (!owner) violations.push(`claim ${phone} points at missing user ${String(claim.uid)}`);
    else if (owner.erasedAt !== undefined) violations.push(`claim ${phone} points at erased user ${String(claim.uid)}`);
    else if (owner.phone !== phone) violations.push(`claim ${phone} points at user ${String(claim.uid)} who has ${String(owner.phone)}`);
  }
  const claimed = new Map(claims.map((claim) => [phoneOfClaim(claim), String(claim.uid)]));
  for (const [uid, user] of users) {
    if (user.erasedAt !== undefined && user.phone !== undefined) violations.push(`erased user ${uid} holds ${String(user.phone)}`);
    if (user.phone !== undefined && claimed.get(String(user.phone)) !== uid) violations.push(`user ${uid} has ${String(user.phone)} without its claim`);
  }
  for (const [phone, uids] of phonesOnTwoUsers(items)) violations.push(`${phone} is on ${uids.length} users: ${uids.join(', ')}`);
  return violations;
}

/** The invariants over the harness's users table. */
export const linkInvariantViolations = async (h: Harness): Promise<string[]> => linkInvariantViolationsIn((await h.snapshot()).users);

/** The attributes an operation in flight leaves on a user or a claim (pending-operations.ts), removed by its commit or its rollback. */
const MARKER_ATTRIBUTES = ['pendingOperation', 'pendingAction', 'pendingCreate', 'claimingPhone', 'releasingPhone'];

/**
 * Items still carrying an operation in flight (ordered-writes mode): a
 * marker attribute, or a due time for the reconciler on anything but a
 * tombstone (whose due time is the end of its retention); and any item that
 * is neither a user nor a claim.
 */
export const pendingMarkersIn = (items: readonly Item[]): Item[] =>
  items.filter(
    (item) =>
      !(isUser(item) || isClaim(item)) ||
      MARKER_ATTRIBUTES.some((name) => item[name] !== undefined) ||
      (item.dueAt !== undefined && item.erasedAt === undefined),
  );

/** The markers left in the harness's users table. */
export const pendingMarkers = async (h: Harness): Promise<Item[]> => pendingMarkersIn((await h.snapshot()).users);
