import type { MetricName } from '../../functions/observability';

// Metrics are off in tests (env.ts) unless a suite asks for them; Powertools reads this when
// functions/observability.ts loads, so a suite that counts metrics imports this module first.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

/** The EMF metric lines the functions write while it is open, kept off the console. */
export interface EmfCapture {
  /** `name` summed over every line written since the capture began. */
  total(name: MetricName): number;
  /** Forgets the lines written so far. */
  reset(): void;
  close(): void;
}

export function captureEmf(): EmfCapture {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (!text.includes('"_aws"')) return write(chunk, ...rest);
    lines.push(text);
    return true;
  }) as typeof process.stdout.write);
  return {
    total: (name) =>
      lines
        .flatMap((line) => [(JSON.parse(line) as Partial<Record<MetricName, number | number[]>>)[name] ?? []].flat())
        .reduce((sum, value) => sum + value, 0),
    reset: () => {
      lines.length = 0;
    },
    close: () => spy.mockRestore(),
  };
}
