/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Rounded for the results file: two decimals for milliseconds. */
export const round = (value: number, decimals = 2): number => Math.round(value * 10 ** decimals) / 10 ** decimals;

export const p50p99 = (samples: readonly number[]) => ({ p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)) });

/** A plain-text table, columns padded; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (/^[-\d.,]+( \w+)?$/.test(cell) && column > 0 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [line(cells[0] ?? []), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
