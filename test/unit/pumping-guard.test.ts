import fc from 'fast-check';
import {
  escalatedWhileBlocked,
  failsConversion,
  GUARD_DEFAULTS,
  LOCKOUT_DEFAULTS,
  lockedUntil,
  minuteOf,
  PROVEN_WINDOW_MS,
  provenUntil,
  recentConversions,
  tally,
  wrongCodesNow,
} from '../../functions/domain/pumping-guard';

const MINUTE = 60_000;
const T = 29_000_000 * MINUTE; // a minute boundary
const rules = { windowSeconds: 3600, graceSeconds: 60 };
const counts = (issued: [number, number][], converted: [number, number][] = []) => ({ issued: new Map(issued), converted: new Map(converted) });

describe('tally', () => {
  it('judges only codes whose whole minute is older than the grace', () => {
    const now = T + 30_000; // half a minute into minute T
    const m = minuteOf(T);
    const result = tally(counts([[m, 4], [m - 1, 3], [m - 2, 2]], [[m - 2, 1]]), now, rules);
    // minute m-1 ended 30 s ago: still in its grace; m-2 ended 90 s ago.
    expect(result).toEqual({ issued: 9, judged: 2, converted: 1 });
  });

  it('leaves out minutes that began before the window, and minutes up to an unblock', () => {
    const m = minuteOf(T);
    const all = counts([[m - 61, 50], [m - 60, 7], [m - 30, 5], [m - 10, 3]]);
    expect(tally(all, T, rules)).toEqual({ issued: 15, judged: 15, converted: 0 });
    expect(tally(all, T, rules, (m - 30) * MINUTE + 10_000)).toEqual({ issued: 3, judged: 3, converted: 0 });
  });

  it('never counts more conversions than codes, nor codes of a minute yet to come', () => {
    const m = minuteOf(T);
    expect(tally(counts([[m - 5, 2], [m + 1, 9]], [[m - 5, 5]]), T, rules)).toEqual({ issued: 2, judged: 2, converted: 2 });
  });
});

describe('failsConversion', () => {
  it('blocks at 20 judged codes with fewer than 10 % converted, not before', () => {
    expect(failsConversion({ issued: 19, judged: 19, converted: 0 }, 20, 10)).toBe(false);
    expect(failsConversion({ issued: 20, judged: 20, converted: 1 }, 20, 10)).toBe(true);
    expect(failsConversion({ issued: 20, judged: 20, converted: 2 }, 20, 10)).toBe(false);
    expect(failsConversion({ issued: 30, judged: 29, converted: 2 }, 20, 10)).toBe(true);
  });

  it('agrees with the percentage, whatever the counts', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.integer({ min: 1, max: 100 }), (judged, converted, percent) => {
        const tallied = { issued: judged, judged, converted: Math.min(converted, judged) };
        const expected = judged >= 20 && (tallied.converted / judged) * 100 < percent;
        expect(failsConversion(tallied, 20, percent)).toBe(expected);
      }),
    );
  });
});

describe('proven prefixes', () => {
  it('are proven for 7 days after their 5th most recent conversion', () => {
    const times = [T, T - 1000, T - 2000, T - 3000, T - 4000, T - 9_000_000];
    expect(provenUntil(times, 5)).toBe(T - 4000 + PROVEN_WINDOW_MS);
    expect(provenUntil(times.slice(0, 4), 5)).toBeUndefined();
    expect(recentConversions(times, 5)).toEqual([T, T - 1000, T - 2000, T - 3000, T - 4000]);
    expect(provenUntil(recentConversions(times, 5), 5)).toBe(provenUntil(times, 5));
  });
});

describe('country escalation while prefixes are blocked', () => {
  it('lasts while at least 3 are blocked', () => {
    expect(escalatedWhileBlocked([T + 10, T + 30, T + 20], 3, T)).toBe(T + 10);
    expect(escalatedWhileBlocked([T + 10, T + 30, T + 20, T + 40], 3, T)).toBe(T + 20);
    expect(escalatedWhileBlocked([T + 10, T - 30, T + 20], 3, T)).toBeUndefined();
  });
});

describe('the per-user lockout', () => {
  const rulesOf = LOCKOUT_DEFAULTS;
  it('locks after 100 wrong codes in a row, until a day after the last', () => {
    expect(lockedUntil({ count: 99, lastWrongAt: T }, rulesOf, T + 1)).toBeUndefined();
    expect(lockedUntil({ count: 100, lastWrongAt: T }, rulesOf, T + 1)).toBe(T + 86_400_000);
    expect(lockedUntil({ count: 100, lastWrongAt: T }, rulesOf, T + 86_400_000)).toBeUndefined();
    expect(lockedUntil(undefined, rulesOf, T)).toBeUndefined();
  });

  it('starts counting afresh once a lockout (or a count) has lasted its time', () => {
    expect(wrongCodesNow({ count: 100, lastWrongAt: T }, rulesOf, T + 86_399_999)).toBe(100);
    expect(wrongCodesNow({ count: 100, lastWrongAt: T }, rulesOf, T + 86_400_000)).toBe(0);
  });

  it('has the contract defaults', () => {
    expect(GUARD_DEFAULTS).toMatchObject({ prefixDigits: 3, windowSeconds: 3600, graceSeconds: 60, minCodes: 20, minConversionPercent: 10, blockSeconds: 43_200 });
    expect(GUARD_DEFAULTS).toMatchObject({ countryBlockAfter: 3, countryMinCodes: 60, provenConversions: 5, maxUnprovenPerMinute: 100, maxUnprovenPerCountryPerMinute: 30 });
    expect(LOCKOUT_DEFAULTS).toEqual({ maxConsecutiveFailures: 100, lockoutSeconds: 86_400 });
  });
});
