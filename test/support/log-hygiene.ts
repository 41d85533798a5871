import type { LogCapture } from './log-capture';
import { shows } from './log-match';

/**
 * The capture log-capture.ts installs. Without it every check here would
 * pass on no lines at all, so its absence is an error, not an empty log.
 */
function capture(): LogCapture {
  const installed = (globalThis as { __logCapture?: LogCapture }).__logCapture;
  if (!installed) throw new Error('No log capture: the integration project must load test/support/log-capture.ts before the tests (jest.config.js setupFiles)');
  return installed;
}

/** A value the logs must never show: a phone, a code, a token, a secret. */
export function neverLog(value: string | undefined): void {
  const sensitive = capture().sensitive;
  if (!value || value.length < 6) return;
  sensitive.add(value);
}

export const capturedLogLines = (): string[] => capture().lines;

/** The sensitive values that appear in some captured log line. */
export function leakedIntoLogs(): string[] {
  const { sensitive, lines } = capture();
  return [...sensitive].filter((value) => lines.some((line) => shows(line, value)));
}

// After every integration test file: not one sensitive value in any log line.
afterAll(() => {
  const leaked = leakedIntoLogs();
  if (leaked.length > 0) throw new Error(`Sensitive values appeared in log lines: ${leaked.join(', ')}`);
});
