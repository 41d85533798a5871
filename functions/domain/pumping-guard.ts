/**
 * The rules of the SMS pumping guard and of the per-user lockout
 * (docs/API.md, "Abuse defences beyond the caps"), as pure functions over
 * counts and times, so that the send, the judge and the admin routes read
 * the same arithmetic.
 */

export interface GuardRules {
  /** SMS_GUARD: off leaves the caps alone and turns the prefix guard, the country escalation and the unproven lane off. */
  readonly enabled: boolean;
  /** Digits of the national significant number that name a prefix after its country. */
  readonly prefixDigits: number;
  /** Codes issued and converted are counted over this many seconds. */
  readonly windowSeconds: number;
  /** Codes younger than this are not judged yet: their users may still be typing. */
  readonly graceSeconds: number;
  /** Judged codes a prefix needs before its conversion is judged at all. */
  readonly minCodes: number;
  /** Below this share of judged codes converted, a prefix is blocked. */
  readonly minConversionPercent: number;
  readonly blockSeconds: number;
  /** Blocked prefixes that make a country escalate (its unproven prefixes blocked too). */
  readonly countryBlockAfter: number;
  /** Judged codes a country's unproven prefixes need, together, before their conversion is judged. */
  readonly countryMinCodes: number;
  /** Conversions within PROVEN_WINDOW_MS that make a prefix proven. */
  readonly provenConversions: number;
  /** Sends to unproven prefixes in all, per UTC minute: a share of the global breaker. */
  readonly maxUnprovenPerMinute: number;
  /** Sends to one country's unproven prefixes per UTC minute: a share of its breaker. */
  readonly maxUnprovenPerCountryPerMinute: number;
}

export const GUARD_DEFAULTS: GuardRules = {
  enabled: true,
  prefixDigits: 3,
  windowSeconds: 3600,
  graceSeconds: 60,
  minCodes: 20,
  minConversionPercent: 10,
  blockSeconds: 43_200,
  countryBlockAfter: 3,
  countryMinCodes: 60,
  provenConversions: 5,
  maxUnprovenPerMinute: 100,
  maxUnprovenPerCountryPerMinute: 30,
};

/** A prefix stays proven for this long after its conversions. */
export const PROVEN_WINDOW_MS = 7 * 86_400_000;

const MINUTE_MS = 60_000;

/** The UTC minute a time falls in, as a whole number: the guard's counts are kept per minute. */
export const minuteOf = (at: number): number => Math.floor(at / MINUTE_MS);

/** Codes counted per minute (minuteOf) of their issue. */
export type MinuteCounts = ReadonlyMap<number, number>;

/** A prefix's (or a country's unproven prefixes') codes over the window, as the guard judges them. */
export interface Tally {
  /** Issued within the window. */
  readonly issued: number;
  /** Issued within the window and past the grace: old enough to be judged. */
  readonly judged: number;
  /** Judged codes that were converted. */
  readonly converted: number;
}

/**
 * The codes of the window ending at `now`. A minute counts while it began
 * within the window; its codes are judged once the whole minute is older
 * than the grace. Minutes up to the one of `forgivenAt` are forgiven (an
 * operator's unblock): the guard judges from there afresh.
 */
export function tally(counts: { issued: MinuteCounts; converted: MinuteCounts }, now: number, rules: Pick<GuardRules, 'windowSeconds' | 'graceSeconds'>, forgivenAt?: number): Tally {
  const first = Math.max(Math.ceil((now - rules.windowSeconds * 1000) / MINUTE_MS), forgivenAt === undefined ? -Infinity : minuteOf(forgivenAt) + 1);
  const judgedUpTo = now - rules.graceSeconds * 1000;
  let issued = 0;
  let judged = 0;
  let converted = 0;
  for (const [minute, count] of counts.issued) {
    if (minute < first || minute > minuteOf(now)) continue;
    issued += count;
    if ((minute + 1) * MINUTE_MS <= judgedUpTo) {
      judged += count;
      converted += Math.min(count, counts.converted.get(minute) ?? 0);
    }
  }
  return { issued, judged, converted };
}

/** Enough judged codes, too few of them converted: the rule that blocks a prefix (or escalates a country). */
export const failsConversion = ({ judged, converted }: Tally, minCodes: number, minConversionPercent: number): boolean =>
  judged >= minCodes && converted * 100 < judged * minConversionPercent;

/**
 * Until when the conversions make a prefix proven: the `required`-th most
 * recent one plus PROVEN_WINDOW_MS; undefined with fewer conversions.
 */
export function provenUntil(conversionTimes: readonly number[], required: number): number | undefined {
  if (required < 1 || conversionTimes.length < required) return undefined;
  const newestFirst = [...conversionTimes].sort((a, b) => b - a);
  return (newestFirst[required - 1] as number) + PROVEN_WINDOW_MS;
}

/** The conversion times worth keeping: the `required` most recent. */
export const recentConversions = (conversionTimes: readonly number[], required: number): number[] =>
  [...conversionTimes].sort((a, b) => b - a).slice(0, Math.max(required, 0));

/**
 * While `after` prefixes of a country are blocked, its unproven prefixes
 * are too: until the moment fewer than `after` blocks remain, or undefined
 * when fewer are blocked now.
 */
export function escalatedWhileBlocked(blockedUntil: readonly number[], after: number, now: number): number | undefined {
  const active = blockedUntil.filter((until) => until > now).sort((a, b) => b - a);
  return after >= 1 && active.length >= after ? active[after - 1] : undefined;
}

export interface LockoutRules {
  /** CODE_MAX_CONSECUTIVE_FAILURES: wrong codes with no success between them that lock a user out. */
  readonly maxConsecutiveFailures: number;
  /** CODE_LOCKOUT_SECONDS: how long after the last wrong code the lockout lasts. */
  readonly lockoutSeconds: number;
}

export const LOCKOUT_DEFAULTS: LockoutRules = { maxConsecutiveFailures: 100, lockoutSeconds: 86_400 };

/** A user's wrong codes in a row, across codes and resends. */
export interface WrongCodesInARow {
  readonly count: number;
  /** When the last one was tried, in ms. */
  readonly lastWrongAt: number;
}

/** The count as it stands at `now`: a lockout over (or a count left that long) starts again from nothing. */
export const wrongCodesNow = (state: WrongCodesInARow | undefined, rules: LockoutRules, now: number): number =>
  state !== undefined && now < state.lastWrongAt + rules.lockoutSeconds * 1000 ? state.count : 0;

/** Until when the user is locked out, or undefined. */
export function lockedUntil(state: WrongCodesInARow | undefined, rules: LockoutRules, now: number): number | undefined {
  if (state === undefined || wrongCodesNow(state, rules, now) < rules.maxConsecutiveFailures) return undefined;
  return state.lastWrongAt + rules.lockoutSeconds * 1000;
}
