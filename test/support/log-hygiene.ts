import type { LogCapture } from './log-capture';

/** A value the logs must never show: a phone, a code, a token, a secret. */
export function neverLog(value: string | undefined): void {
  const capture = (globalThis as { __logCapture?: LogCapture }).__logCapture;
  if (!capture || !value || value.length < 6) return;
  capture.sensitive.add(value);
}

export const capturedLogLines = (): string[] => (globalThis as { __logCapture?: LogCapture }).__logCapture?.lines ?? [];

/** The sensitive values that appear in some captured log line. */
export function leakedIntoLogs(): string[] {
  const capture = (globalThis as { __logCapture?: LogCapture }).__logCapture;
  if (!capture) return [];
  return [...capture.sensitive].filter((value) => capture.lines.some((line) => line.includes(value)));
}

// After every integration test file: not one sensitive value in any log line.
afterAll(() => {
  const leaked = leakedIntoLogs();
  if (leaked.length > 0) throw new Error(`Sensitive values appeared in log lines: ${leaked.join(', ')}`);
});
