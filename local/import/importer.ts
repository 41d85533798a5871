import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { AdminClient, LinkOutcome } from './admin-client';
import { detectFormat, readRecords, type InputFormat, type InputItem } from './records';

/**
 * The import: records read lazily from the file, at most `concurrency` of
 * them at the admin route at once, each outcome counted, every reject
 * written to `<file>.rejects.jsonl` with its line and reason (a file the
 * import reads back as it is, see records.ts). The reader takes the next
 * record only when a request slot is free, so memory stays flat however
 * long the file is.
 */

export interface ImportOptions {
  readonly file: string;
  /** Detected from the file when absent. */
  readonly format?: InputFormat;
  readonly client: AdminClient;
  readonly concurrency: number;
  /** Default `<file>.rejects.jsonl`. */
  readonly rejectsFile?: string;
  /** Aborted: read no further record; the requests in flight finish. */
  readonly stop?: AbortSignal;
}

/** Live counts, for progress. */
export interface ImportStats {
  /** Records taken from the file, malformed ones included (blank lines are not records). */
  read: number;
  linked: number;
  alreadyThere: number;
  rejected: number;
  /** Records that needed more than one request (HTTP 429, 5xx, network faults). */
  retried: number;
  inFlight: number;
  bytesRead: number;
  totalBytes: number;
  readonly startedAt: number;
}

export interface ImportResult {
  readonly stats: Readonly<ImportStats>;
  readonly seconds: number;
  /** Records done (linked, already there or rejected) per second. */
  readonly recordsPerSecond: number;
  /** Written only when something was rejected. */
  readonly rejectsFile: string | undefined;
  /** Why the run stopped early, when a fault made every further record pointless (401, 403, an unreadable file). */
  readonly fatal: string | undefined;
  /** The run was told to stop (Ctrl+C) before the end of the file. */
  readonly stopped: boolean;
}

export interface RunningImport {
  readonly stats: Readonly<ImportStats>;
  readonly done: Promise<ImportResult>;
}

export const rejectsFileOf = (file: string): string => `${file}.rejects.jsonl`;

export function startImport(options: ImportOptions): RunningImport {
  const stats: ImportStats = { read: 0, linked: 0, alreadyThere: 0, rejected: 0, retried: 0, inFlight: 0, bytesRead: 0, totalBytes: 0, startedAt: performance.now() };
  return { stats, done: run(options, stats) };
}

async function run(options: ImportOptions, stats: ImportStats): Promise<ImportResult> {
  const rejects = new RejectsWriter(options.rejectsFile ?? rejectsFileOf(options.file));
  let fatal: string | undefined;
  const inFlight = new Set<Promise<void>>();

  const send = async (item: Extract<InputItem, { kind: 'record' }>): Promise<void> => {
    let outcome: LinkOutcome;
    try {
      const answer = await options.client.linkPhone(item.record);
      if (answer.attempts > 1) stats.retried += 1;
      outcome = answer;
    } catch (error) {
      outcome = { kind: 'rejected', reason: `import fault: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (outcome.kind === 'linked') stats.linked += 1;
    else if (outcome.kind === 'already-there') stats.alreadyThere += 1;
    else if (outcome.kind === 'rejected') await reject(item.line, outcome.reason, item.raw);
    // A fatal answer: this record is not done, and no further one is sent.
    else fatal ??= outcome.reason;
  };

  const reject = async (line: number, reason: string, record: unknown): Promise<void> => {
    stats.rejected += 1;
    await rejects.write({ line, reason, record });
  };

  try {
    stats.totalBytes = (await stat(options.file)).size;
    const format = options.format ?? (await detectFormat(options.file));
    for await (const item of readRecords(options.file, format)) {
      stats.read += 1;
      stats.bytesRead = item.bytesRead;
      if (item.kind === 'malformed') {
        await reject(item.line, item.reason, item.raw);
      } else {
        const request: Promise<void> = send(item).finally(() => {
          inFlight.delete(request);
          stats.inFlight = inFlight.size;
        });
        inFlight.add(request);
        stats.inFlight = inFlight.size;
        // The next record is read only once a slot is free.
        if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      }
      if (fatal !== undefined || options.stop?.aborted) break;
    }
  } catch (error) {
    fatal ??= error instanceof Error ? error.message : String(error);
  }
  await Promise.allSettled(inFlight);
  const stopped = fatal === undefined && options.stop?.aborted === true;
  try {
    await rejects.close({ wholeFile: fatal === undefined && !stopped });
  } catch (error) {
    fatal ??= error instanceof Error ? error.message : String(error);
  }

  const seconds = (performance.now() - stats.startedAt) / 1000;
  const done = stats.linked + stats.alreadyThere + stats.rejected;
  return {
    stats,
    seconds,
    recordsPerSecond: seconds > 0 ? done / seconds : 0,
    rejectsFile: rejects.written ? rejects.path : undefined,
    fatal,
    stopped,
  };
}

/**
 * `<file>.rejects.jsonl`, written beside it under a temporary name from the
 * first reject on, and moved into place when the run ends: an earlier run's
 * file stays whole until this run has one to replace it with.
 */
class RejectsWriter {
  private stream: WriteStream | undefined;
  private failure: Error | undefined;
  private readonly temporary: string;

  constructor(readonly path: string) {
    this.temporary = `${path}.${process.pid}.partial`;
  }

  get written(): boolean {
    return this.stream !== undefined;
  }

  async write(entry: { line: number; reason: string; record: unknown }): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream) {
      this.stream = createWriteStream(this.temporary, { flags: 'w' });
      this.stream.on('error', (error) => (this.failure ??= new Error(`Cannot write the rejects file: ${error.message}`)));
    }
    if (!this.stream.write(`${JSON.stringify(entry)}\n`)) await once(this.stream, 'drain');
  }

  /**
   * This run's rejects replace the earlier file. With none, the earlier file
   * goes only when the run read the whole input (nothing of it is
   * outstanding); a run that stopped early leaves it as it was.
   */
  async close({ wholeFile }: { wholeFile: boolean }): Promise<void> {
    if (!this.stream) {
      if (wholeFile) await rm(this.path, { force: true });
      return;
    }
    this.stream.end();
    await finished(this.stream).catch(() => undefined);
    if (this.failure) {
      await rm(this.temporary, { force: true });
      throw this.failure;
    }
    await rename(this.temporary, this.path);
  }
}
