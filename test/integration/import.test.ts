import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../../functions/adapters/aws/client-config';
import { createAdminClient, type RetrySettings } from '../../local/import/admin-client';
import { rejectsFileOf, startImport, type ImportResult } from '../../local/import/importer';
import { runImportCli, type CliRun } from '../../local/import/run-cli';
import { isLoopbackHost, regionFromHost, resolveRegion } from '../../local/import/signing';
import type { LocalApp } from '../../local/app';
import type { LocalServer } from '../../local/server';
import { linkInvariantViolationsIn } from '../support/invariants';
import { startServerOnFreshTables } from '../support/local-server';
import { neverLog } from '../support/log-hygiene';

// `npm run import`: the reader, the answers, the exit codes and the signing
// against a stub admin route on loopback, then end to end against the local
// server on DynamoDB Local. The CLI runs as a child process where its exit
// code or its environment matters; elsewhere the core is called directly.

const ROOT = path.resolve(__dirname, '../..');
const FAST_RETRY: RetrySettings = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
/** The reject reason of a uid outside the one uid rule: such a record is never sent. */
const BAD_UID = 'uid is not 1 to 128 characters of [A-Za-z0-9._:@-], other than "." and ".."';

interface Received {
  readonly method: string;
  /** As sent: percent-encoded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'drop';

interface Stub {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Requests whose answer has not been sent yet, now and at most. */
  readonly open: () => number;
  readonly maxOpen: () => number;
  close(): Promise<void>;
}

const envelope = (code: number, msg: string, data: Record<string, unknown> | null = null) => ({ code, msg, extMsg: '', data });
const ok = (alreadyLinked = false): Reply => ({ status: 200, body: envelope(200, 'Phone number linked successfully', { alreadyLinked }) });

/**
 * A stand-in for the admin route on loopback: `reply` gets each request and how many times its URL came before (0 the first time).
 * The import's reachability probe (`GET /`) is answered 404 and not recorded.
 */
async function startStub(reply: (request: Received, earlier: number) => Reply | Promise<Reply> = () => ok()): Promise<Stub> {
  const received: Received[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/') return res.writeHead(404).end();
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const earlier = received.filter((other) => other.url === request.url).length;
      received.push(request);
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      res.on('close', () => (open -= 1));
      void Promise.resolve(reply(request, earlier)).then((answer) => {
        if (answer === 'drop') return req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    open: () => open,
    maxOpen: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL that refuses connections: a port just freed. */
async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'phone-link-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file in this suite's temp folder. */
function inputFile(name: string, content: string): string {
  const file = path.join(dir, `${randomUUID().slice(0, 8)}-${name}`);
  writeFileSync(file, content);
  return file;
}

const jsonl = (...records: unknown[]): string => records.map((record) => `${typeof record === 'string' ? record : JSON.stringify(record)}\n`).join('');

function importFile(file: string, url: string, concurrency = 4) {
  return startImport({ file, client: createAdminClient({ baseUrl: new URL(url), retry: FAST_RETRY }), concurrency });
}

const rejectsOf = (file: string): { line: number; reason: string; record: unknown }[] =>
  readFileSync(rejectsFileOf(file), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { line: number; reason: string; record: unknown })
    .sort((a, b) => a.line - b.line);

const counts = (result: ImportResult) => {
  const { read, linked, alreadyThere, rejected } = result.stats;
  return { read, linked, alreadyThere, rejected };
};

/** What the stub received, as records: uid from the path, the JSON body. */
const sent = (stub: Stub) =>
  stub.received
    .map((request) => ({
      method: request.method,
      uid: decodeURIComponent(/^\/admin\/v1\/users\/([^/]+)\/phone$/.exec(request.url)?.[1] ?? `unexpected path ${request.url}`),
      contentType: request.headers['content-type'],
      body: JSON.parse(request.body) as unknown,
    }))
    .sort((a, b) => a.uid.localeCompare(b.uid));

/** `npm run import -- ...` as a child process, with only the environment given (plus PATH). */
const runCli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runImportCli(args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env } });

/** The summary's figures from stdout. */
function summaryOf(stdout: string): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const match of stdout.matchAll(/^(read|linked|already there|rejected|retried):\s+(\d+)$/gm)) figures[match[1]!] = Number(match[2]);
  return figures;
}

describe('import: reading the file', () => {
  let stub: Stub;
  beforeAll(async () => {
    stub = await startStub();
  });
  afterAll(() => stub.close());
  beforeEach(() => stub.received.splice(0));

  it('JSON Lines: one PUT per record to /admin/v1/users/{uid}/phone with the JSON body, internationalCode only when given', async () => {
    const file = inputFile(
      'links.jsonl',
      '\ufeff' + jsonl({ uid: 'team_a.b', phone: '13800138001', internationalCode: '86' }, '', { uid: 'u:2@x', phone: '+85251234567' }) + '{"uid":"u-3","phone":"13800138003","internationalCode":null}\r\n',
    );

    const result = await importFile(file, stub.url).done;

    expect(counts(result)).toEqual({ read: 3, linked: 3, alreadyThere: 0, rejected: 0 });
    expect(stub.received.map((request) => request.url).sort()).toEqual([
      '/admin/v1/users/team_a.b/phone',
      '/admin/v1/users/u%3A2%40x/phone',
      '/admin/v1/users/u-3/phone',
    ]);
    expect(sent(stub)).toEqual([
      { method: 'PUT', uid: 'team_a.b', contentType: 'application/json', body: { phone: '13800138001', internationalCode: '86' } },
      { method: 'PUT', uid: 'u-3', contentType: 'application/json', body: { phone: '13800138003' } },
      { method: 'PUT', uid: 'u:2@x', contentType: 'application/json', body: { phone: '+85251234567' } },
    ]);
    expect(existsSync(rejectsFileOf(file))).toBe(false);
  });

  it('CSV: quoted fields, CRLF, a BOM, the header in any order; an empty internationalCode is absent', async () => {
    const file = inputFile(
      'links.csv',
      '\ufeffphone,uid,internationalCode\r\n"138 0013 8001","a:b",86\r\n13800138002,"say ""hi""",\r\n\r\n"+852 5123 4567",c,\r\n"13800138006","a,b",86\r\n',
    );

    const result = await importFile(file, stub.url).done;

    expect(counts(result)).toEqual({ read: 4, linked: 2, alreadyThere: 0, rejected: 2 });
    expect(sent(stub).map(({ uid, body }) => ({ uid, body }))).toEqual([
      { uid: 'a:b', body: { phone: '138 0013 8001', internationalCode: '86' } },
      { uid: 'c', body: { phone: '+852 5123 4567' } },
    ]);
    // Read whole, quotes and comma included, then refused by the uid rule before any request.
    expect(rejectsOf(file)).toEqual([
      { line: 3, reason: BAD_UID, record: { uid: 'say "hi"', phone: '13800138002', internationalCode: '' } },
      { line: 6, reason: BAD_UID, record: { uid: 'a,b', phone: '13800138006', internationalCode: '86' } },
    ]);
  });

  it('tells JSON Lines from CSV by the first character when the extension says nothing', async () => {
    const asJson = inputFile('links.txt', `\n  ${JSON.stringify({ uid: 'j', phone: '13800138001' })}\n`);
    const asCsv = inputFile('links.dat', 'uid,phone\nc,13800138002\n');

    const results = [await importFile(asJson, stub.url).done, await importFile(asCsv, stub.url).done];

    expect(results.map((result) => counts(result))).toEqual([
      { read: 1, linked: 1, alreadyThere: 0, rejected: 0 },
      { read: 1, linked: 1, alreadyThere: 0, rejected: 0 },
    ]);
    expect(sent(stub).map(({ uid, body }) => ({ uid, body }))).toEqual([
      { uid: 'c', body: { phone: '13800138002' } },
      { uid: 'j', body: { phone: '13800138001' } },
    ]);
  });

  it('JSON Lines: malformed lines are rejected with their line and reason, and never sent', async () => {
    const file = inputFile(
      'mixed.jsonl',
      jsonl(
        { uid: 'good-1', phone: '13800138001' }, // 1
        '{"uid": "broken", "phone": ', // 2
        '', // 3
        { phone: '13800138003' }, // 4
        { uid: 'no-phone' }, // 5
        { uid: 'numeric', phone: 13800138006 }, // 6
        ['good-7', '13800138007'], // 7
        { uid: 'code-number', phone: '13800138008', internationalCode: 86 }, // 8
        { uid: '', phone: '13800138009' }, // 9
        { uid: 'good-10', phone: '13800138010' }, // 10
        { uid: 'x'.repeat(70_000), phone: '13800138011' }, // 11: too long to be a record, and not held
        { uid: 'good-12', phone: '13800138012' }, // 12
        { uid: 'a b', phone: '13800138013' }, // 13
        { uid: '..', phone: '13800138014' }, // 14
        { uid: 'u'.repeat(129), phone: '13800138015' }, // 15
      ),
    );

    const result = await importFile(file, stub.url).done;

    expect(counts(result)).toEqual({ read: 14, linked: 3, alreadyThere: 0, rejected: 11 });
    expect(sent(stub).map((request) => request.uid)).toEqual(['good-1', 'good-10', 'good-12']);
    const rejects = rejectsOf(file);
    expect(rejects.filter(({ line }) => line === 11)).toEqual([{ line: 11, reason: 'line longer than 65536 bytes', record: `{"uid":"${'x'.repeat(192)}…` }]);
    expect(rejects.filter(({ line }) => line !== 11)).toEqual([
      { line: 2, reason: 'not valid JSON', record: '{"uid": "broken", "phone": ' },
      { line: 4, reason: 'missing uid', record: { phone: '13800138003' } },
      { line: 5, reason: 'missing phone', record: { uid: 'no-phone' } },
      { line: 6, reason: 'phone is not a string', record: { uid: 'numeric', phone: 13800138006 } },
      { line: 7, reason: 'not a JSON object', record: ['good-7', '13800138007'] },
      { line: 8, reason: 'internationalCode is not a string', record: { uid: 'code-number', phone: '13800138008', internationalCode: 86 } },
      { line: 9, reason: 'missing uid', record: { uid: '', phone: '13800138009' } },
      { line: 13, reason: BAD_UID, record: { uid: 'a b', phone: '13800138013' } },
      { line: 14, reason: BAD_UID, record: { uid: '..', phone: '13800138014' } },
      { line: 15, reason: BAD_UID, record: { uid: 'u'.repeat(129), phone: '13800138015' } },
    ]);
    expect(result.rejectsFile).toBe(rejectsFileOf(file));
  });

  it('CSV: a row with the wrong column count is rejected at its line, counting the header, blank lines and fields that span lines', async () => {
    const file = inputFile(
      'mixed.csv',
      [
        'uid,phone,internationalCode', // 1
        'good-2,13800138002,86', // 2
        'short,13800138003', // 3
        '', // 4
        '"multi', // 5
        'line",13800138006,86', // 6
        'long,13800138007,86,extra', // 7
        'x"y,13800138008,86', // 8: a stray quote is text
        ',13800138009,86', // 9
        '"two', // 10
        'lines",13800138011', // 11
        '',
      ].join('\n'),
    );

    const result = await importFile(file, stub.url).done;

    expect(counts(result)).toEqual({ read: 7, linked: 1, alreadyThere: 0, rejected: 6 });
    expect(sent(stub).map((request) => request.uid)).toEqual(['good-2']);
    expect(rejectsOf(file)).toEqual([
      { line: 3, reason: '2 columns where the header has 3', record: ['short', '13800138003'] },
      { line: 5, reason: BAD_UID, record: { uid: 'multi\nline', phone: '13800138006', internationalCode: '86' } },
      { line: 7, reason: '4 columns where the header has 3', record: ['long', '13800138007', '86', 'extra'] },
      { line: 8, reason: BAD_UID, record: { uid: 'x"y', phone: '13800138008', internationalCode: '86' } },
      { line: 9, reason: 'missing uid', record: { uid: '', phone: '13800138009', internationalCode: '86' } },
      { line: 10, reason: '2 columns where the header has 3', record: ['two\nlines', '13800138011'] },
    ]);
  });

  it('reads a rejects file as it is: each line\'s record is sent, one that is still no object is rejected again', async () => {
    const file = inputFile(
      'links.jsonl.rejects.jsonl',
      jsonl(
        { line: 3, reason: '5019 Phone number format incorrect', record: { uid: 'fixed-1', phone: '13800138001', internationalCode: '86' } },
        { line: 7, reason: '2 columns where the header has 3', record: ['short', '13800138003'] },
        { line: 9, reason: 'not valid JSON', record: '{"uid": "broken", ' },
        { line: 12, reason: 'missing phone', record: { uid: 'still-no-phone' } },
        // A record of its own that happens to carry a "record" key is a record, not a rejects-file line.
        { uid: 'plain', phone: '13800138005', record: 'kept as an unknown key' },
      ),
    );

    const result = await importFile(file, stub.url).done;

    expect(counts(result)).toEqual({ read: 5, linked: 2, alreadyThere: 0, rejected: 3 });
    expect(sent(stub).map(({ uid, body }) => ({ uid, body }))).toEqual([
      { uid: 'fixed-1', body: { phone: '13800138001', internationalCode: '86' } },
      { uid: 'plain', body: { phone: '13800138005' } },
    ]);
    // Rejected again as the inner record, never nested one level deeper.
    const notAnObject = 'a rejects-file line whose "record" is not a JSON object: write it as {"uid", "phone", "internationalCode"}';
    expect(rejectsOf(file)).toEqual([
      { line: 2, reason: notAnObject, record: ['short', '13800138003'] },
      { line: 3, reason: notAnObject, record: '{"uid": "broken", ' },
      { line: 4, reason: 'missing phone', record: { uid: 'still-no-phone' } },
    ]);
  });

  it('CSV: a quote left open stops the run at its line, after every record before it', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `before-${i},1380013${String(8000 + i)},86`);
    const file = inputFile('open-quote.csv', ['uid,phone,internationalCode', ...rows, '"open,13800138100,86', 'after,13800138101,86', ''].join('\n'));

    const result = await importFile(file, stub.url).done;

    expect(result.fatal).toMatch(/line 22: .*Quote Not Closed.*cannot be read past it/);
    expect(counts(result)).toEqual({ read: 20, linked: 20, alreadyThere: 0, rejected: 0 });
    expect(sent(stub).map((request) => request.uid)).not.toContain('after');
  });
});

describe('import: what the admin route answers', () => {
  it('counts linked and already there, and rejects every other envelope code with its code and msg', async () => {
    const answers: Record<string, Reply> = {
      '/admin/v1/users/new/phone': ok(false),
      '/admin/v1/users/had-it/phone': ok(true),
      '/admin/v1/users/taken/phone': { status: 200, body: envelope(5002, 'Phone number already registered') },
      '/admin/v1/users/erased/phone': { status: 200, body: envelope(5033, 'User does not exist') },
      '/admin/v1/users/refused-uid/phone': { status: 200, body: envelope(400, 'Invalid parameter: uid') },
      '/admin/v1/users/not-found/phone': { status: 404, body: '<html>nothing here</html>' },
    };
    const stub = await startStub((request) => answers[request.url] ?? { status: 500, body: 'unexpected' });
    const file = inputFile('answers.jsonl', jsonl(...['new', 'had-it', 'taken', 'erased', 'refused-uid', 'not-found', '..'].map((uid) => ({ uid, phone: '13800138000' }))));

    const result = await importFile(file, stub.url).done;
    await stub.close();

    expect(counts(result)).toEqual({ read: 7, linked: 1, alreadyThere: 1, rejected: 5 });
    expect(rejectsOf(file)).toEqual([
      { line: 3, reason: '5002 Phone number already registered', record: { uid: 'taken', phone: '13800138000' } },
      { line: 4, reason: '5033 User does not exist', record: { uid: 'erased', phone: '13800138000' } },
      { line: 5, reason: '400 Invalid parameter: uid', record: { uid: 'refused-uid', phone: '13800138000' } },
      { line: 6, reason: "HTTP 404 <html>nothing here</html> (not the API's envelope)", record: { uid: 'not-found', phone: '13800138000' } },
      { line: 7, reason: BAD_UID, record: { uid: '..', phone: '13800138000' } },
    ]);
    // ".." breaks the uid rule (it would reach another route): it is never sent.
    expect(stub.received).toHaveLength(6);
  });

  it('tries HTTP 503, 429 and a dropped connection again, with backoff, until the answer comes', async () => {
    const faults: Record<string, Reply> = {
      '/admin/v1/users/busy/phone': { status: 503, body: { message: 'Service Unavailable' } },
      '/admin/v1/users/throttled/phone': { status: 429, body: { message: 'Too Many Requests' }, headers: { 'retry-after': '0' } },
      '/admin/v1/users/dropped/phone': 'drop',
    };
    // Each fails twice, then succeeds: within FAST_RETRY's three attempts.
    const stub = await startStub((request, earlier) => (earlier < 2 ? (faults[request.url] ?? ok()) : ok()));
    const file = inputFile('faults.jsonl', jsonl(...['busy', 'throttled', 'dropped', 'fine'].map((uid) => ({ uid, phone: '13800138000' }))));

    const result = await importFile(file, stub.url).done;
    await stub.close();

    expect(counts(result)).toEqual({ read: 4, linked: 4, alreadyThere: 0, rejected: 0 });
    const attempts = (uid: string) => stub.received.filter((request) => request.url === `/admin/v1/users/${uid}/phone`).length;
    expect(['busy', 'throttled', 'dropped', 'fine'].map(attempts)).toEqual([3, 3, 3, 1]);
    expect(result.stats.retried).toBe(3);
  });

  it('rejects a record whose faults outlast the attempts, with the last fault as reason', async () => {
    const stub = await startStub(() => ({ status: 503, body: { message: 'Service Unavailable' } }));
    const file = inputFile('down.jsonl', jsonl({ uid: 'u', phone: '13800138000' }));

    const result = await importFile(file, stub.url).done;
    await stub.close();

    expect(counts(result)).toEqual({ read: 1, linked: 0, alreadyThere: 0, rejected: 1 });
    expect(rejectsOf(file)).toEqual([{ line: 1, reason: 'HTTP 503 Service Unavailable (after 3 attempts)', record: { uid: 'u', phone: '13800138000' } }]);
    expect(stub.received).toHaveLength(FAST_RETRY.attempts);
  });
});

describe('import: a server out of reach', () => {
  it('that goes away mid-run stops the run (cannot reach), rejects no record for it and leaves the earlier rejects file alone', async () => {
    let answered = 0;
    const stub = await startStub(async () => {
      answered += 1;
      if (answered === 2) await stub.close();
      return ok();
    });
    const file = inputFile('gone.jsonl', jsonl(...Array.from({ length: 50 }, (_, i) => ({ uid: `gone-${i}`, phone: '13800138000' }))));
    writeFileSync(rejectsFileOf(file), 'an earlier run\'s rejects\n');

    const result = await importFile(file, stub.url, 1).done;

    expect(result.fatal).toMatch(new RegExp(`^cannot reach ${stub.url} \\(network error: ECONNREFUSED, after ${FAST_RETRY.attempts} attempts\\)$`));
    expect(result.stats.rejected).toBe(0);
    expect(result.stats.read).toBeLessThan(50);
    expect(readFileSync(rejectsFileOf(file), 'utf8')).toBe('an earlier run\'s rejects\n');
  });
});

describe('import: the command', () => {
  it('exits 2 at once when nothing answers at the URL: "cannot reach <url>", nothing read, the earlier rejects file left alone', async () => {
    const url = await refusingUrl();
    const file = inputFile('nobody.jsonl', jsonl({ uid: 'a', phone: '13800138001' }, 'not json'));
    writeFileSync(rejectsFileOf(file), 'an earlier run\'s rejects\n');

    const [run, local] = await Promise.all([runCli([file, '--url', url]), runCli([file, '--url', `${url}/prod/`])]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`import: cannot reach ${url} (network error: ECONNREFUSED). Check --url.`);
    expect(run.stdout).toBe('');
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(`cannot reach ${url}/prod (`);
    expect(readFileSync(rejectsFileOf(file), 'utf8')).toBe('an earlier run\'s rejects\n');
    expect(readdirSync(dir).filter((name) => name.includes('nobody') && name.endsWith('.partial'))).toEqual([]);
  });

  it('exits 0 when nothing is rejected and 1 when anything is; the rejects file is the last run\'s', async () => {
    const stub = await startStub((request) => (request.url.includes('taken') ? { status: 200, body: envelope(5002, 'Phone number already registered') } : ok()));
    const file = inputFile('run.jsonl', jsonl({ uid: 'a', phone: '13800138001' }, { uid: 'taken', phone: '13800138002' }, 'not json'));

    const first = await runCli([file, '--url', stub.url]);
    const rejectsAfterFirst = rejectsOf(file);
    writeFileSync(file, jsonl({ uid: 'a', phone: '13800138001' }));
    const second = await runCli([file, '--url', stub.url]);
    await stub.close();

    expect(first.code).toBe(1);
    expect(summaryOf(first.stdout)).toMatchObject({ read: 3, linked: 1, 'already there': 0, rejected: 2 });
    expect(first.stdout).toMatch(/^records\/s:\s+\d+(\.\d)?$/m);
    expect(rejectsAfterFirst.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 2, reason: '5002 Phone number already registered' },
      { line: 3, reason: 'not valid JSON' },
    ]);
    expect(second.code).toBe(0);
    expect(summaryOf(second.stdout)).toMatchObject({ read: 1, linked: 1, 'already there': 0, rejected: 0 });
    expect(existsSync(rejectsFileOf(file))).toBe(false);
  });

  it('stops with exit 2 on HTTP 403: no further record is sent', async () => {
    const stub = await startStub(() => ({ status: 403, body: { message: 'Forbidden' } }));
    const file = inputFile('forbidden.jsonl', jsonl(...Array.from({ length: 200 }, (_, i) => ({ uid: `u-${i}`, phone: '13800138000' }))));
    writeFileSync(rejectsFileOf(file), 'an earlier run\'s rejects\n');

    const run = await runCli([file, '--url', stub.url, '--concurrency', '2']);
    await stub.close();

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('HTTP 403 Forbidden');
    expect(run.stderr).toContain('execute-api:Invoke');
    expect(stub.received.length).toBeLessThanOrEqual(3);
    expect(summaryOf(run.stdout).rejected).toBe(0);
    // Stopped early with nothing rejected: the earlier rejects are still outstanding.
    expect(readFileSync(rejectsFileOf(file), 'utf8')).toBe('an earlier run\'s rejects\n');
  });

  it('exits 2 on bad arguments, an unreadable file or no region to sign for; --help prints the usage', async () => {
    const file = inputFile('ok.jsonl', jsonl({ uid: 'u', phone: '13800138000' }));

    const runs = await Promise.all([
      runCli([]),
      runCli([path.join(dir, 'missing.jsonl')]),
      runCli([file, '--concurrency', '0']),
      runCli([file, '--url', 'ftp://example.com']),
      runCli([file, '--bogus']),
      runCli([file, '--url', 'https://api.example.com']),
      runCli(['--help']),
    ]);

    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2, 2, 0]);
    expect(runs[1]!.stderr).toContain('no such file');
    expect(runs[5]!.stderr).toContain('Cannot tell which AWS region');
    expect(runs[6]!.stdout).toContain('Usage: npm run import -- <file> [options]');
  });
});

describe('import: signing', () => {
  const credentials = { accessKeyId: 'AKIDIMPORTTEST', secretAccessKey: 'import-test-secret-key', sessionToken: 'import-test-session-token' };
  const awsEnv = {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_REGION: 'eu-west-1',
  };
  /** `20260101T120000Z` */
  const fromAmzDate = (value: string) => new Date(value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

  it('with --sign, each request carries a SigV4 signature for execute-api, made with the environment credentials, that verifies', async () => {
    const stub = await startStub();
    const file = inputFile('signed.jsonl', jsonl({ uid: 'user:1@x', phone: '13800138001', internationalCode: '86' }));

    const run = await runCli([file, '--url', stub.url, '--sign'], awsEnv);
    await stub.close();

    expect(run.code).toBe(0);
    expect(stub.received).toHaveLength(1);
    const request = stub.received[0]!;
    const authorization = String(request.headers.authorization);
    const amzDate = String(request.headers['x-amz-date']);
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    expect(authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDIMPORTTEST/${amzDate.slice(0, 8)}/eu-west-1/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`),
    );
    expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    expect(signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token']));

    // The server's side: sign the request as received, at its date, with the same credentials.
    const verifier = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials, sha256: Sha256 });
    const recomputed = await verifier.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: stub.port,
        path: request.url,
        query: {},
        headers: Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name])])),
        body: request.body,
      },
      { signingDate: fromAmzDate(amzDate) },
    );
    expect(recomputed.headers.authorization).toBe(authorization);
  });

  it('leaves requests to loopback unsigned by default, even with credentials in the environment', async () => {
    const stub = await startStub();
    const file = inputFile('unsigned.jsonl', jsonl({ uid: 'u', phone: '13800138001' }));

    const run = await runCli([file, '--url', stub.url], awsEnv);
    await stub.close();

    expect(run.code).toBe(0);
    expect(stub.received).toHaveLength(1);
    expect(stub.received[0]!.headers.authorization).toBeUndefined();
    expect(stub.received[0]!.headers['x-amz-date']).toBeUndefined();
  });

  it('takes loopback for the local server, and the region from --region, the execute-api host, AWS_REGION, AWS_DEFAULT_REGION in that order', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(['example.com', '10.0.0.1', '127.0.0.1.example.com', 'abc.execute-api.eu-west-1.amazonaws.com', '[::2]'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);

    expect(regionFromHost('a1b2c3.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionFromHost('a1b2c3.execute-api.cn-north-1.amazonaws.com.cn')).toBe('cn-north-1');
    expect(regionFromHost('api.example.com')).toBeUndefined();

    const stack = new URL('https://a1b2c3.execute-api.ap-south-1.amazonaws.com/');
    const custom = new URL('https://api.example.com');
    const env = { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' };
    expect(resolveRegion('eu-central-1', stack, env)).toBe('eu-central-1');
    expect(resolveRegion(undefined, stack, env)).toBe('ap-south-1');
    expect(resolveRegion(undefined, custom, env)).toBe('us-east-1');
    expect(resolveRegion(undefined, custom, { AWS_DEFAULT_REGION: 'us-west-2' })).toBe('us-west-2');
    expect(() => resolveRegion(undefined, custom, {})).toThrow(/Cannot tell which AWS region to sign for: api\.example\.com/);
  });
});

describe('import: bounded', () => {
  const until = async (condition: () => boolean): Promise<void> => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it.each(['jsonl', 'csv'])('%s: never more requests in flight than --concurrency, and no record read ahead while they are held', async (format) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stub = await startStub(async () => {
      await released;
      return ok();
    });
    const records = Array.from({ length: 300 }, (_, i) => ({ uid: `held-${i}`, phone: `139${String(i).padStart(8, '0')}` }));
    const content = format === 'csv' ? ['uid,phone', ...records.map(({ uid, phone }) => `${uid},${phone}`), ''].join('\n') : jsonl(...records);
    const file = inputFile(`held.${format}`, content);

    const running = importFile(file, stub.url, 4);
    await until(() => stub.open() >= 4);
    // Not a timing assertion: a reader that ran ahead gets every chance to, over many turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const whileHeld = { open: stub.open(), read: running.stats.read };
    release();
    const result = await running.done;
    await stub.close();

    expect(whileHeld.open).toBe(4);
    expect(whileHeld.read).toBeLessThanOrEqual(4 + 1);
    expect(stub.maxOpen()).toBe(4);
    expect(counts(result)).toEqual({ read: 300, linked: 300, alreadyThere: 0, rejected: 0 });
  });
});

describe('import: end to end on the local server', () => {
  let server: LocalServer;
  const admin = async (method: string, uid: string, body?: unknown) => {
    const response = await fetch(`${server.url}/admin/v1/users/${encodeURIComponent(uid)}${body === undefined ? '' : '/phone'}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return (await response.json()) as { code: number; msg: string; data: Record<string, unknown> | null };
  };
  /** A distinct valid Chinese mobile number per test and index, kept out of the logs. */
  const mobile = (series: number, i: number) => {
    const phone = `139${String(series).padStart(2, '0')}${String(i).padStart(6, '0')}`;
    neverLog(phone);
    return phone;
  };

  beforeAll(async () => {
    ({ server } = await startServerOnFreshTables('import', { userDomainSecret: 'import-test-domain-secret' }));
  });
  afterAll(() => server.close());

  it('links every record, then on a second run finds them all already there; both exit 0', async () => {
    const records = Array.from({ length: 40 }, (_, i) => ({ uid: `e2e-${i}`, phone: mobile(1, i), internationalCode: '86' }));
    const file = inputFile('e2e.jsonl', jsonl(...records));

    const first = await runCli([file, '--url', server.url, '--concurrency', '4']);
    const second = await runCli([file, '--url', server.url, '--concurrency', '4']);

    expect([first.code, second.code]).toEqual([0, 0]);
    const firstRun = summaryOf(first.stdout);
    expect(firstRun).toMatchObject({ read: 40, rejected: 0 });
    // On a busy machine the server can answer 500 for a link it made (its DynamoDB client gives up on a slow
    // answer); the retry then finds it in place. Only such retried records may count as already there.
    expect(firstRun.linked! + firstRun['already there']!).toBe(40);
    expect(firstRun['already there']).toBeLessThanOrEqual(firstRun.retried!);
    expect(summaryOf(second.stdout)).toMatchObject({ read: 40, linked: 0, 'already there': 40, rejected: 0 });
    expect((await admin('GET', 'e2e-7')).data).toMatchObject({ uid: 'e2e-7', phone: records[7]!.phone, internationalCode: '86', exists: true });
  });

  it('rejects a phone linked to another uid (5002), an erased uid (5033), a uid breaking the uid rule (never sent) and no mobile (5019), and exits 1', async () => {
    const owned = mobile(2, 1);
    expect((await admin('PUT', 'owner', { phone: owned, internationalCode: '86' })).code).toBe(200);
    expect((await admin('DELETE', 'gone')).code).toBe(200);
    const file = inputFile(
      'e2e-refused.csv',
      ['uid,phone,internationalCode', `thief,${owned},86`, `gone,${mobile(2, 2)},86`, `bad uid!,${mobile(2, 3)},86`, 'landline,1012345678,86', `fine,${mobile(2, 5)},`, ''].join('\n'),
    );

    const run = await runCli([file, '--url', server.url]);

    expect(run.code).toBe(1);
    expect(summaryOf(run.stdout)).toMatchObject({ read: 5, rejected: 4 });
    expect(rejectsOf(file).map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 2, reason: '5002 Phone number already registered' },
      { line: 3, reason: '5033 User does not exist' },
      { line: 4, reason: BAD_UID },
      { line: 5, reason: '5019 Phone number format incorrect' },
    ]);
    expect((await admin('GET', 'owner')).data).toMatchObject({ phone: owned });
    expect((await admin('GET', 'thief')).data).toMatchObject({ phone: null, exists: false });
    // No internationalCode: the server's domestic default (86).
    expect((await admin('GET', 'fine')).data).toMatchObject({ phone: mobile(2, 5), internationalCode: '86' });
  });

  it('imports its own rejects file once fixed, as it is: the fixed records link, exit 0', async () => {
    const file = inputFile('e2e-fix.jsonl', jsonl({ uid: 'fix-ok', phone: mobile(3, 1) }, { uid: 'fix-landline', phone: '1012345678', internationalCode: '86' }, '{"uid": "fix-broken", "phone": '));

    const first = await runCli([file, '--url', server.url]);
    const rejects = rejectsOf(file);
    // The operator's fixes, in place: a mobile for the landline, an object for the broken line; line and reason stay.
    const fixed = rejects.map((entry) =>
      entry.line === 2 ? { ...entry, record: { uid: 'fix-landline', phone: mobile(3, 2), internationalCode: '86' } } : { ...entry, record: { uid: 'fix-broken', phone: mobile(3, 3) } },
    );
    writeFileSync(rejectsFileOf(file), jsonl(...fixed));
    const again = await runCli([rejectsFileOf(file), '--url', server.url]);

    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`import that file as it is, with the same options: npm run import -- ${rejectsFileOf(file)}`);
    expect(rejects.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 2, reason: '5019 Phone number format incorrect' },
      { line: 3, reason: 'not valid JSON' },
    ]);
    expect(again.code).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ read: 2, rejected: 0 });
    expect(existsSync(rejectsFileOf(rejectsFileOf(file)))).toBe(false);
    expect((await admin('GET', 'fix-landline')).data).toMatchObject({ phone: mobile(3, 2), exists: true });
    expect((await admin('GET', 'fix-broken')).data).toMatchObject({ phone: mobile(3, 3), exists: true });
  });
});

// The same user's links at once take turns (docs/API.md, Conventions): on a multi-Region table (ordered writes) they
// each take several writes, and an import that repeats a uid met 500s there.
describe('import: a file that repeats a uid, on the local server in ordered-writes mode', () => {
  let server: LocalServer;
  let app: LocalApp;
  let usersTableName: string;
  const mobile = (series: number, i: number) => {
    const phone = `137${String(series).padStart(2, '0')}${String(i).padStart(6, '0')}`;
    neverLog(phone);
    return phone;
  };

  beforeAll(async () => {
    // As `npm start` runs it: DynamoDB Local's slack for a burst.
    const started = await startServerOnFreshTables('import-repeats', { phoneLinks: 'ordered-writes', dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS });
    ({ server, app } = started);
    usersTableName = started.tables.usersTableName;
  });
  afterAll(() => server.close());

  it('16 records in flight, most of them for one uid: each links in turn, none meets a 500, the uid ends with one of its phones', async () => {
    const repeated = Array.from({ length: 16 }, (_, i) => ({ uid: 'moves-often', phone: mobile(3, i), internationalCode: '86' }));
    const others = Array.from({ length: 8 }, (_, i) => ({ uid: `once-${i}`, phone: mobile(4, i), internationalCode: '86' }));
    // Two records of the repeated uid, then one of another, and so on.
    const records = others.flatMap((other, i) => [repeated[2 * i]!, repeated[2 * i + 1]!, other]);
    const file = inputFile('repeats.jsonl', jsonl(...records));

    const result = await startImport({ file, client: createAdminClient({ baseUrl: new URL(server.url) }), concurrency: 16 }).done;

    // A record answered 500 is tried again (counted as retried), and rejected once its attempts run out.
    expect({ ...counts(result), retried: result.stats.retried }).toEqual({ read: 24, linked: 24, alreadyThere: 0, rejected: 0, retried: 0 });
    expect(repeated.map((record) => record.phone)).toContain((await app.users.find('moves-often'))?.phone?.nationalNumber);
    const { Items = [] } = await app.db.send(new ScanCommand({ TableName: usersTableName, ConsistentRead: true }));
    expect(linkInvariantViolationsIn(Items)).toEqual([]);
  });
});
