import type { LogCapture } from './log-capture';

/** A value the logs must never show: a phone, a code, a token, a secret. */
export function neverLog(value: string | undefined): void {
  const capture = (globalThis as { __logCapture?: LogCapture }).__logCapture;
  if (!capture || !value || value.length < 6) return;
  capture.sensitive.add(value);
}

export const capturedLogLines = (): string[] => (globalThis as { __logCapture?: LogCapture }).__logCapture?.lines ?? [];

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

/** The sensitive values that appear in some captured log line. */
export function leakedIntoLogs(): string[] {
  const capture = (globalThis as { __logCapture?: LogCapture }).__logCapture;
  if (!capture) return [];
  return [...capture.sensitive].filter((value) => capture.lines.some((line) => shows(line, value)));
}

// After every integration test file: not one sensitive value in any log line.
afterAll(() => {
  const leaked = leakedIntoLogs();
  if (leaked.length > 0) throw new Error(`Sensitive values appeared in log lines: ${leaked.join(', ')}`);
});
