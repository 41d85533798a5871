import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { isUserId, USER_ID_RULE } from '../../functions/domain/user-id';

/**
 * The import's input, read lazily: one record a line, as JSON Lines or as
 * CSV with a header. A rejects file (`{"line", "reason", "record"}` a line)
 * is JSON Lines too: each line's `record` is read, so a fixed rejects file
 * imports as it is. A line that cannot be a record comes out as
 * `malformed`, with its reason, and is never sent. Only one chunk of the
 * file is held at a time, so a file of any length reads in constant memory.
 */

export type InputFormat = 'jsonl' | 'csv';

/** What the admin route takes. internationalCode absent: the server's domestic default applies. */
export interface ImportRecord {
  readonly uid: string;
  readonly phone: string;
  readonly internationalCode?: string;
}

interface Located {
  /** 1-based line of the file where the record starts (a CSV header is line 1). */
  readonly line: number;
  /** The record as read (a parsed object, CSV fields, or the raw text), for the rejects file. */
  readonly raw: unknown;
  /** Bytes of the file read up to the end of this record, for progress. */
  readonly bytesRead: number;
}

export type InputItem = (Located & { readonly kind: 'record'; readonly record: ImportRecord }) | (Located & { readonly kind: 'malformed'; readonly reason: string });

/** The input cannot be read at all (as opposed to one bad line). */
export class InputError extends Error {
  override name = 'InputError';
}

/** Small chunks: the reader holds one, so this is the most it ever runs ahead of the requests. */
const CHUNK_BYTES = 16 * 1024;
/** No record is anywhere near this long; a longer line is rejected without being held. */
export const MAX_LINE_BYTES = 64 * 1024;
/** What of an overlong line goes to the rejects file. */
const RAW_PREVIEW_CHARS = 200;

/** By extension (.csv, .jsonl, .ndjson), else by the first non-blank character: `{` is JSON Lines. */
export async function detectFormat(file: string): Promise<InputFormat> {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return 'jsonl';
      const first = /[^\s\ufeff]/.exec(buffer.toString('utf8', 0, bytesRead));
      if (first) return first[0] === '{' ? 'jsonl' : 'csv';
    }
  } finally {
    await handle.close();
  }
}

export function readRecords(file: string, format: InputFormat): AsyncGenerator<InputItem> {
  return format === 'csv' ? csvRecords(file) : jsonLines(file);
}

/** Checks the fields of one record; `raw` is what the rejects file shows. */
export function toRecord(fields: Readonly<Record<string, unknown>>, line: number, raw: unknown, bytesRead: number): InputItem {
  const malformed = (reason: string): InputItem => ({ kind: 'malformed', line, reason, raw, bytesRead });
  const { uid, phone, internationalCode } = fields;
  for (const [name, value] of [['uid', uid], ['phone', phone]] as const) {
    if (value === undefined || value === null || value === '') return malformed(`missing ${name}`);
    if (typeof value !== 'string') return malformed(`${name} is not a string`);
  }
  // The admin route's own rule, checked before sending: "." and ".." would reach another route.
  if (!isUserId(uid)) return malformed(`uid is not ${USER_ID_RULE}`);
  // Absent, null or empty: the server's domestic default applies.
  const code = internationalCode === undefined || internationalCode === null || internationalCode === '' ? undefined : internationalCode;
  if (code !== undefined && typeof code !== 'string') return malformed('internationalCode is not a string');
  const record: ImportRecord = code === undefined ? { uid: uid as string, phone: phone as string } : { uid: uid as string, phone: phone as string, internationalCode: code };
  return { kind: 'record', line, record, raw, bytesRead };
}

/** One JSON Lines line (without its line break); undefined for a blank line. */
export function parseJsonLine(text: string, line: number, bytesRead: number): InputItem | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', line, reason: 'not valid JSON', raw: text, bytesRead };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'malformed', line, reason: 'not a JSON object', raw: value, bytesRead };
  }
  if (isRejectsFileLine(value)) {
    // A line of a rejects file, fixed or not: its record is what is imported (and rejected again, if so).
    const { record } = value;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      return { kind: 'malformed', line, reason: 'a rejects-file line whose "record" is not a JSON object: write it as {"uid", "phone", "internationalCode"}', raw: record, bytesRead };
    }
    return toRecord(record as Record<string, unknown>, line, record, bytesRead);
  }
  return toRecord(value as Record<string, unknown>, line, value, bytesRead);
}

/** `{"line", "reason", "record"}` as the import writes it: a `record`, and no `uid` or `phone` of its own. */
const isRejectsFileLine = (value: object): value is { record: unknown } =>
  Object.hasOwn(value, 'record') && !Object.hasOwn(value, 'uid') && !Object.hasOwn(value, 'phone');

async function* jsonLines(file: string): AsyncGenerator<InputItem> {
  // Split on the newline byte, so a character cut by a chunk boundary is decoded whole.
  let pending: Buffer[] = [];
  /** Bytes of the line being read so far, kept or not. */
  let pendingBytes = 0;
  /** Set once the line being read is too long: its start, for the rejects file; the rest is counted, not kept. */
  let overlong: string | undefined;
  let line = 0;
  let bytesRead = 0;

  const keep = (piece: Buffer): void => {
    pendingBytes += piece.length;
    if (overlong !== undefined) return;
    pending.push(piece);
    if (pendingBytes > MAX_LINE_BYTES) {
      overlong = Buffer.concat(pending).toString('utf8', 0, RAW_PREVIEW_CHARS * 4).slice(0, RAW_PREVIEW_CHARS);
      pending = [];
    }
  };

  const endLine = (): InputItem | undefined => {
    line += 1;
    bytesRead += pendingBytes;
    let item: InputItem | undefined;
    if (overlong !== undefined) {
      item = { kind: 'malformed', line, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: `${overlong}…`, bytesRead };
    } else {
      const text = Buffer.concat(pending).toString('utf8').replace(/\r?\n$/, '');
      item = parseJsonLine(line === 1 ? text.replace(/^\ufeff/, '') : text, line, bytesRead);
    }
    pending = [];
    pendingBytes = 0;
    overlong = undefined;
    return item;
  };

  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      keep(chunk.subarray(start, newline + 1));
      start = newline + 1;
      const item = endLine();
      if (item) yield item;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (pendingBytes > 0) {
    const item = endLine();
    if (item) yield item;
  }
}

interface ParsedRow {
  readonly record: string[];
  /** Where the parser stands once the row is read: the line it ends on, the bytes consumed. */
  readonly info: { readonly lines: number; readonly bytes: number };
}

const COLUMNS = ['uid', 'phone', 'internationalCode'] as const;

async function* csvRecords(file: string): AsyncGenerator<InputItem> {
  const parser = parse({
    bom: true,
    info: true,
    raw: true,
    // A stray quote inside a field is kept as text: the record goes on, and the server judges its values.
    relax_quotes: true,
    // Column counts are checked here, per record, so a short or long row is one reject.
    relax_column_count: true,
    // What the parser cannot read comes to on_skip instead of ending the stream, so every row before it is still handed out.
    skip_records_with_error: true,
    skip_empty_lines: true,
    // Either line break, even mixed in one file.
    record_delimiter: ['\r\n', '\n'],
    // A quote left open would otherwise swallow the rest of the file into one field.
    max_record_size: MAX_LINE_BYTES,
  });
  // Destroying the parser (the loop below ending early) closes the file too.
  const rows = pipeline(createReadStream(file, { highWaterMark: CHUNK_BYTES }), parser, () => undefined);
  /**
   * The first row the parser could not read, with the number of rows handed
   * out before it. After an open quote nothing that follows can be trusted,
   * so the rows before it are imported and the run stops there.
   */
  let unreadable: { readonly after: number; readonly error: InputError } | undefined;
  parser.on('skip', (error: CsvError & { lines?: number }, raw?: string) => {
    const end = error.lines ?? parser.info.lines;
    const line = end - (raw?.replace(/(?:\r\n|\r|\n)$/, '').match(/\r\n|\r|\n/g)?.length ?? 0);
    unreadable ??= {
      after: parser.info.records,
      error: new InputError(`${file} line ${line}: ${error.message}. The CSV cannot be read past it (a quote left open?); the records before it were sent.`),
    };
  });

  let header: Map<(typeof COLUMNS)[number], number> | undefined;
  let width = 0;
  let handedOut = 0;
  for await (const { record: fields, info } of rows as AsyncIterable<ParsedRow>) {
    if (unreadable && unreadable.after <= handedOut) throw unreadable.error;
    handedOut += 1;
    // info.lines is where the row ends; a quoted field may span lines.
    const line = info.lines - fields.reduce((breaks, field) => breaks + (field.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
    if (header === undefined) {
      header = readHeader(fields);
      width = fields.length;
      continue;
    }
    if (fields.length !== width) {
      yield { kind: 'malformed', line, reason: `${fields.length} columns where the header has ${width}`, raw: fields, bytesRead: info.bytes };
      continue;
    }
    const named: Record<string, string> = {};
    for (const [name, index] of header) named[name] = fields[index]!;
    yield toRecord(named, line, named, info.bytes);
  }
  if (unreadable) throw unreadable.error;
}

/** The header names the columns (any order, any case); uid and phone are required. */
function readHeader(fields: readonly string[]): Map<(typeof COLUMNS)[number], number> {
  const header = new Map<(typeof COLUMNS)[number], number>();
  fields.forEach((field, index) => {
    const column = COLUMNS.find((name) => name.toLowerCase() === field.trim().toLowerCase());
    if (column && !header.has(column)) header.set(column, index);
  });
  if (!header.has('uid') || !header.has('phone')) {
    throw new InputError(`The CSV header must name the columns uid, phone and optionally internationalCode; line 1 is ${JSON.stringify(fields.join(','))}`);
  }
  return header;
}
