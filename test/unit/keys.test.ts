import { keys, utcWindow, windowEnd } from '../../functions/adapters/dynamodb/keys';

describe('rate-limit windows', () => {
  const at = Date.parse('2026-11-25T18:04:59.999Z');

  it('are fixed and aligned to the UTC minute, hour and day', () => {
    expect(utcWindow(at, 'minute')).toBe('2026-11-25T18:04');
    expect(utcWindow(at, 'hour')).toBe('2026-11-25T18');
    expect(utcWindow(at, 'day')).toBe('2026-11-25');
    expect(windowEnd(at, 'minute')).toBe(Date.parse('2026-11-25T18:05:00Z'));
    expect(windowEnd(at, 'hour')).toBe(Date.parse('2026-11-25T19:00:00Z'));
    expect(windowEnd(at, 'day')).toBe(Date.parse('2026-11-26T00:00:00Z'));
  });

  it('give each counter its own item per window', () => {
    expect(keys.globalMinuteCount(at, 3)).toBe('COUNT#ALL#2026-11-25T18:04#3');
    expect(keys.globalMinuteCount(at + 1, 3)).toBe('COUNT#ALL#2026-11-25T18:05#3');
    expect(keys.countryMinuteCount('DE', at)).toBe('COUNT#COUNTRY#DE#2026-11-25T18:04');
    expect(keys.countryMinuteCount('DE', at + 1)).toBe('COUNT#COUNTRY#DE#2026-11-25T18:05');
    expect(keys.phoneDayCount('+8613800138000', at)).toBe('COUNT#PHONE#+8613800138000#2026-11-25');
  });
});
