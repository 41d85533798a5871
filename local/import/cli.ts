/**
 * `npm run import -- <file> [--url <base URL>]`: existing phone links in,
 * through the admin route (docs/API.md, "Users", Import). The work is done
 * by importer.ts; this file reads the arguments, sets up signing, shows
 * progress and the summary, and picks the exit code.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { cannotReach, createAdminClient, whyUnreachable } from './admin-client';
import { startImport, type ImportResult } from './importer';
import { showProgress } from './progress';
import { detectFormat } from './records';
import { createSigV4Signer, isLoopbackHost, resolveRegion, type RequestSigner } from './signing';

const USAGE = `Usage: npm run import -- <file> [options]

Links phone numbers to uids through the admin route PUT /admin/v1/users/{uid}/phone,
one record a line, as JSON Lines or CSV with a header:
  {"uid": "u-1", "phone": "13800138000", "internationalCode": "86"}
  uid,phone,internationalCode
A .csv file is read as CSV, .jsonl and .ndjson as JSON Lines, any other by its first
character ("{": JSON Lines). Without internationalCode the server's domestic default applies.

Options:
  --url <base URL>     the API (default http://127.0.0.1:3000, the local server);
                       for a deployed stack, its API URL
  --sign, --no-sign    sign requests with SigV4 (service execute-api) or not; by default
                       signed unless the URL is loopback. Credentials come from the usual
                       AWS environment: variables, profile, SSO, container or instance role
  --region <region>    region to sign for (default: from an *.execute-api.<region>.amazonaws.com
                       URL, then AWS_REGION, then AWS_DEFAULT_REGION)
  --concurrency <n>    requests in flight at once, 1-256 (default 16)
  -h, --help           this text

Each rejected record (malformed, or refused: 5002 phone linked to another uid, 5019,
5021, 5033, 400) goes to <file>.rejects.jsonl as {"line", "reason", "record"}. That file
can be imported as it is, once its records are fixed: npm run import -- <file>.rejects.jsonl
(each line's "record" is what is sent). It is replaced at the end of each run that rejects
something, removed by a run through the whole file that rejects nothing, and left alone by
a run that stops early with nothing rejected or never starts. Running again is safe:
records in place count as "already there".

Exit status: 0 nothing rejected, 1 something rejected, 2 fatal (bad arguments, unreadable
file, no region or credentials, cannot reach the URL, HTTP 401/403 from the API),
130 stopped by Ctrl+C.`;

const DEFAULT_URL = 'http://127.0.0.1:3000';
const DEFAULT_CONCURRENCY = 16;
const MAX_CONCURRENCY = 256;

/** A mistake in how the import was called or set up: exit 2, before any request. */
class UsageError extends Error {}

interface Settings {
  readonly file: string;
  readonly url: URL;
  readonly concurrency: number;
  readonly sign: boolean;
  readonly region: string | undefined;
}

function readArguments(argv: readonly string[]): Settings | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        region: { type: 'string' },
        concurrency: { type: 'string' },
        sign: { type: 'boolean' },
        'no-sign': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Name the file to import.' : `One file at a time, got ${positionals.length}.`);

  let url: URL;
  try {
    url = new URL(values.url ?? DEFAULT_URL);
  } catch {
    throw new UsageError(`--url must be a URL such as ${DEFAULT_URL}, got "${values.url}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http or https, got "${url.protocol}".`);
  if (url.search || url.hash) throw new UsageError('--url is the base URL of the API, without a query or fragment.');

  const concurrency = Number(values.concurrency ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got "${values.concurrency}".`);
  }
  if (values.sign && values['no-sign']) throw new UsageError('--sign and --no-sign contradict each other.');
  const sign = values.sign ? true : values['no-sign'] ? false : !isLoopbackHost(url.hostname);
  return { file: positionals[0]!, url, concurrency, sign, region: values.region };
}

async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error)}.`);
  }
}

function summary(result: ImportResult): string {
  const { stats } = result;
  const rows: [string, string][] = [
    ['read', String(stats.read)],
    ['linked', String(stats.linked)],
    ['already there', String(stats.alreadyThere)],
    ['rejected', String(stats.rejected)],
    // A record whose first request failed on the server's side may have been written then: it counts as already there.
    ['retried', String(stats.retried)],
    ['seconds', result.seconds.toFixed(1)],
    ['records/s', result.recordsPerSecond.toFixed(1)],
  ];
  if (result.rejectsFile) rows.push(['rejects', result.rejectsFile]);
  return rows.map(([label, value]) => `${`${label}:`.padEnd(15)}${value}`).join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let settings: Settings | 'help';
  let signer: RequestSigner | undefined;
  let format;
  try {
    settings = readArguments(argv);
    if (settings === 'help') {
      console.log(USAGE);
      return 0;
    }
    await checkReadable(settings.file);
    format = await detectFormat(settings.file);
    if (settings.sign) signer = await createSigV4Signer(resolveRegion(settings.region, settings.url, process.env));
  } catch (error) {
    console.error(`import: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) console.error('Run with --help for the usage.');
    return 2;
  }
  const unreachable = await whyUnreachable(settings.url);
  if (unreachable !== undefined) {
    const hint = settings.url.href === new URL(DEFAULT_URL).href ? 'Is the local server running (npm start)?' : 'Check --url.';
    console.error(`import: ${cannotReach(settings.url)} (${unreachable}). ${hint} Nothing was sent; an earlier rejects file is left as it was.`);
    return 2;
  }

  const stop = new AbortController();
  process.on('SIGINT', () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    console.error('\nimport: stopping once the requests in flight are answered (Ctrl+C again to quit at once)');
  });

  console.error(
    `import: ${settings.file} (${format === 'csv' ? 'CSV' : 'JSON Lines'}) to ${settings.url.origin}${settings.url.pathname.replace(/\/$/, '')}, ` +
      `${signer ? 'signed with SigV4' : 'unsigned'}, ${settings.concurrency} in flight`,
  );
  const running = startImport({
    file: settings.file,
    format,
    client: createAdminClient({ baseUrl: settings.url, sign: signer }),
    concurrency: settings.concurrency,
    stop: stop.signal,
  });
  const progress = showProgress(running.stats, { stream: process.stderr });
  const result = await running.done;
  progress.stop();

  console.log(summary(result));
  if (result.rejectsFile) {
    console.error(`import: to retry the rejected records, fix them in ${result.rejectsFile} and import that file as it is, with the same options: npm run import -- ${result.rejectsFile}`);
  }
  if (result.fatal !== undefined) {
    console.error(`import: stopped: ${result.fatal}`);
    return 2;
  }
  if (result.stopped) return 130;
  return result.stats.rejected > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('import: unexpected fault', error);
    process.exitCode = 2;
  },
);
