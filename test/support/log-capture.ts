/**
 * Integration suites: the functions log at DEBUG, and every structured log
 * line is captured (kept off the console) so that log-hygiene.ts can check,
 * after each test file, that none carries a phone number, a code, a token or
 * a secret that the tests handled.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

export interface LogCapture {
  readonly lines: string[];
  readonly sensitive: Set<string>;
}

const capture: LogCapture = { lines: [], sensitive: new Set() };
(globalThis as { __logCapture?: LogCapture }).__logCapture = capture;

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    // Powertools writes one JSON object per line with a "level" key.
    if (text.startsWith('{') && text.includes('"level"')) {
      capture.lines.push(text);
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
