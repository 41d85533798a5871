import { maxPriceOf } from '../../functions/adapters/sms/end-user-messaging-sms-sender';

/**
 * SendTextMessage's MaxPrice is a string of US dollars. A value the service
 * refuses would refuse every message, so the sender writes it in the one
 * form it takes and refuses any other at cold start.
 */
describe('the maximum price per SMS, as SendTextMessage takes it', () => {
  it.each([
    [0.05, '0.05'],
    [0.0123, '0.0123'],
    [0.00001, '0.00001'],
    [1, '1.0'],
    [10, '10.0'],
    [2.5, '2.5'],
    [99.99999, '99.99999'],
  ])('%p US dollars is "%s": a point, at most five decimals', (usd, written) => {
    expect(maxPriceOf(usd)).toBe(written);
  });

  it.each([0, -0.05, 100, 250, 0.000001, 0.123456, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p: no cap it could mean, or more decimals than it takes', (usd) => {
    expect(() => maxPriceOf(usd)).toThrow(RangeError);
  });
});
