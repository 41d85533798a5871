/** Values this short (the 6-digit codes) could stand by chance inside a random id or a number. */
const SHORT = 8;

/**
 * Whether `line` shows `value`. A long value (a phone number, a token, a
 * secret) counts wherever it stands. A short one (a code) counts only as a
 * whole word: `"code":"160124"` is a leak, a request id `5f160124-…` is
 * chance.
 */
export function shows(line: string, value: string): boolean {
  if (value.length >= SHORT) return line.includes(value);
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![0-9A-Za-z])${escaped}(?![0-9A-Za-z])`).test(line);
}
