import type { CodePurpose } from '../../domain/verification-code';

/**
 * Every item key of both tables, in one place. Partition key attribute: `pk`.
 *
 * codes table
 *   CODE#<purpose>#<e164>           latest code for (phone, purpose): link or unlink
 *   NONCE#<userDomain>#<random>     a used request nonce
 *   COUNT#PHONE#<e164>#<UTC day>    codes issued to a phone that day
 *   COUNT#IP#<ip>#<UTC hour>        codes issued for a source IP that hour
 *   COUNT#COUNTRY#<country>#<UTC minute>
 *                                   codes issued to numbers of that country that minute
 *   COUNT#ALL#<UTC minute>#<shard>  codes issued in all that minute, one part of
 *                                   the global breaker (shard 0..9)
 * users table
 *   USER#<uid>                      the user, or the tombstone of an erased one (ttl)
 *   PHONE#<e164>                    claim: this phone belongs to that uid
 *
 * users table in ordered-writes mode (a multi-Region global table) also has
 * the sparse index `due` (table-definitions.ts): only items with work left for the reconciler
 * carry its keys, `dueShard` (DUE#0..DUE#9, hashed from pk, so no index
 * partition runs hot) and `dueAt` (ms): for a pending operation its start,
 * for a tombstone the end of its retention.
 */
export const keys = {
  code: (purpose: CodePurpose, e164: string) => `CODE#${purpose}#${e164}`,
  nonce: (userDomain: string, random: string) => `NONCE#${userDomain}#${random}`,
  phoneDayCount: (e164: string, at: number) => `COUNT#PHONE#${e164}#${utcWindow(at, 'day')}`,
  ipHourCount: (ip: string, at: number) => `COUNT#IP#${ip}#${utcWindow(at, 'hour')}`,
  countryMinuteCount: (country: string, at: number) => `COUNT#COUNTRY#${country}#${utcWindow(at, 'minute')}`,
  globalMinuteCount: (at: number, shard: number) => `COUNT#ALL#${utcWindow(at, 'minute')}#${shard}`,
  user: (uid: string) => `USER#${uid}`,
  phoneClaim: (e164: string) => `PHONE#${e164}`,
  /** The phone a claim key names: `PHONE#+8613800138000` -> `+8613800138000`. */
  phoneOfClaim: (pk: string) => pk.slice('PHONE#'.length),
  dueShard: (pk: string) => `DUE#${fnv1a(pk) % DUE_SHARD_COUNT}`,
};

export const DUE_SHARD_COUNT = 10;

/** Every `dueShard` the reconciler reads. */
export const allDueShards = (): string[] => Array.from({ length: DUE_SHARD_COUNT }, (_, shard) => `DUE#${shard}`);

/** A stable, well-spread hash: the shard must be the same for a key in every region and every release. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export type Window = 'day' | 'hour' | 'minute';

const windowLength: Record<Window, number> = { day: 86_400_000, hour: 3_600_000, minute: 60_000 };
const windowLabelLength: Record<Window, number> = { day: 10, hour: 13, minute: 16 };

/** `2026-11-25`, `2026-11-25T18`, `2026-11-25T18:04`: fixed windows aligned to UTC. */
export const utcWindow = (at: number, window: Window): string =>
  new Date(at).toISOString().slice(0, windowLabelLength[window]);

/** When the window holding `at` ends, in ms. */
export const windowEnd = (at: number, window: Window): number =>
  Math.floor(at / windowLength[window]) * windowLength[window] + windowLength[window];

/** DynamoDB TTL wants epoch seconds. */
export const ttlSeconds = (at: number): number => Math.ceil(at / 1000);
