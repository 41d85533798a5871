import type { ImportStats } from './importer';

/**
 * Progress on stderr while the import runs: on a terminal a bar redrawn in
 * place, elsewhere (a log, CI) a plain line now and then.
 */

export interface ProgressOptions {
  readonly stream: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
  /** Default: whether the stream is a terminal. */
  readonly tty?: boolean;
}

const TTY_REDRAW_MS = 100;
const PLAIN_LINE_MS = 2_000;
const BAR_WIDTH = 24;

export function showProgress(stats: Readonly<ImportStats>, options: ProgressOptions): { stop(): void } {
  const tty = options.tty ?? options.stream.isTTY === true;
  const draw = () => {
    if (tty) {
      const line = barLine(stats);
      const width = options.stream.columns ?? 0;
      options.stream.write(`\r\x1b[2K${width > 0 ? line.slice(0, width - 1) : line}`);
    } else {
      options.stream.write(`${plainLine(stats)}\n`);
    }
  };
  const timer = setInterval(draw, tty ? TTY_REDRAW_MS : PLAIN_LINE_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty) {
        draw();
        options.stream.write('\n');
      }
    },
  };
}

const fraction = (stats: Readonly<ImportStats>): number => (stats.totalBytes > 0 ? Math.min(1, stats.bytesRead / stats.totalBytes) : 1);

export function rate(stats: Readonly<ImportStats>, now = performance.now()): number {
  const seconds = (now - stats.startedAt) / 1000;
  return seconds > 0 ? (stats.linked + stats.alreadyThere + stats.rejected) / seconds : 0;
}

const counts = (stats: Readonly<ImportStats>): string =>
  `${stats.read} read, ${stats.linked} linked, ${stats.alreadyThere} already there, ${stats.rejected} rejected, ${Math.round(rate(stats))} records/s`;

export function barLine(stats: Readonly<ImportStats>): string {
  const done = fraction(stats);
  const filled = Math.round(done * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  ${counts(stats)}`;
}

export const plainLine = (stats: Readonly<ImportStats>): string => `import: ${(fraction(stats) * 100).toFixed(0)}% of the file, ${counts(stats)}`;
