/**
 * `npm run bench`: what each request costs in DynamoDB calls and latency,
 * how fast a cold start is and how big each bundle is. Starts its own
 * DynamoDB Local, prints a table and writes bench-results.json. Figures,
 * never pass/fail: the exit code only says whether the bench itself ran.
 * docs/PERFORMANCE.md explains each figure and keeps the budget.
 *
 *   BENCH_ROUNDS               cold starts per function (default 15, at least 10)
 *   BENCH_WARMUP, BENCH_SAMPLES latency rounds dropped and kept (default 100, 400)
 *   BENCH_THROUGHPUT_SECONDS   autocannon run per path (default 5)
 *   BENCH_IMPORT_RECORDS       records in the import run (default 10000)
 *   BENCH_CONTENTION_ROUNDS    rounds of 32 admin links of one uid at once, per mode (default 5)
 *   BENCH_CPU_PROFILE_DIR      write a V8 CPU profile of every cold-start process there
 *                              (open in Chrome DevTools; the bundles' .map files name the sources)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The bench process prepares data through the real handlers, quietly; the
// measured processes get production's settings (see bench/cold-start.ts and
// runInProcess below). Set before any module that reads them is loaded.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROUNDS = Math.max(10, Number(process.env.BENCH_ROUNDS ?? 15));
const RESULTS_FILE = path.join(process.cwd(), 'bench-results.json');

/** docs/PERFORMANCE.md explains each. Cold starts count over bare Node, against the SDK floor's, from the same run. */
const BUDGET = {
  successCalls: 2,
  validationErrorCalls: 0,
  wrongCodeCalls: 2,
  latencyRatio: 1.2,
  coldStartRatio: 1.25,
  coldStartStretchRatio: 1.15,
  bundleBytes: 512 * 1024,
  importRecordsPerSecond: 300,
};

type P50P99 = { p50: number; p99: number };
type Throughput = { reqPerSec: number; p99Ms: number; requests: number; seconds: number; errors: number; connections: number };

/** What bench/in-process.ts reports. */
interface InProcessResults {
  ddbCallsPerRequest: Record<'relationPhone.success' | 'relationPhone.validationError' | 'relationPhone.wrongCode' | 'sendPhoneSmsCode.success', number>;
  latencyMs: Record<'relationPhone.success' | 'floor' | 'relationPhone.validationError', P50P99>;
  throughput: Record<'relationPhone.validationError' | 'relationPhone.success', Throughput>;
  /** Not in the results file: for the cost estimate in docs/PERFORMANCE.md. */
  sendPhoneSmsCodeWithoutSns: P50P99;
}

async function main(): Promise<void> {
  const began = performance.now();
  const { startDynamoDbLocal } = await import('../local/dynamodb-local');
  const { startAwsStub } = await import('./aws-stub');
  const { buildBundle, buildBundles, bytesByPackage } = await import('./bundles');
  const { measureColdStarts } = await import('./cold-start');
  const { measureImport } = await import('./import');
  const { measureContention } = await import('./contention');
  const { CODE_PEPPER } = await import('./fixtures');
  const { median, round, table } = await import('./stats');

  const workDir = mkdtempSync(path.join(tmpdir(), 'phone-link-bench-'));
  const stops: (() => Promise<void>)[] = [async () => rmSync(workDir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));

  try {
    console.log(`Node ${process.version} on ${process.platform}/${process.arch}; Lambda runs Node.js 22 on arm64: compare figures from one machine only.`);
    console.log('Starting DynamoDB Local...');
    const dynamo = await startDynamoDbLocal();
    stops.push(() => dynamo.stop());

    console.log('Bundling the functions as the stack does (BUNDLING in lib/constructs/api-function.ts)...');
    const bundles = await buildBundles(path.join(workDir, 'bundles'));
    const sdkFloor = await buildBundle(path.join(__dirname, 'sdk-floor-entry.ts'), path.join(workDir, 'bundles', 'sdkFloor'));

    console.log('In process: DynamoDB calls, latency against the floor, throughput...');
    const inProcess = await runInProcess(dynamo.endpoint);

    console.log('Import: npm run import against a local server...');
    const importRun = await measureImport(dynamo.endpoint, workDir);

    console.log("One user's requests at once: 32 admin links of one uid, in each mode...");
    const contention = await measureContention(dynamo.endpoint);

    console.log(`Cold starts: ${ROUNDS} fresh processes per case, interleaved with bare Node...`);
    const stub = await startAwsStub(CODE_PEPPER);
    stops.push(() => stub.close());
    const cold = await measureColdStarts(
      dynamo.endpoint,
      stub,
      { relationPhone: bundles.relationPhone.file, sendPhoneSmsCode: bundles.sendPhoneSmsCode.file, sdkFloor: sdkFloor.file },
      ROUNDS,
    );

    type Case = keyof typeof cold;
    const coldMs = (name: Case, key: 'wallMs' | 'importMs' | 'invokeMs' = 'wallMs') => round(median(cold[name].map((run) => run[key])), 1);
    const results = {
      ddbCallsPerRequest: inProcess.ddbCallsPerRequest,
      latencyMs: inProcess.latencyMs,
      coldStartMs: {
        relationPhone: coldMs('relationPhone'),
        sendPhoneSmsCode: coldMs('sendPhoneSmsCode'),
        relationPhoneWithSecret: coldMs('relationPhoneWithSecret'),
        sdkFloor: coldMs('sdkFloor'),
        bareNode: coldMs('bareNode'),
      },
      bundleBytes: { relationPhone: bundles.relationPhone.bytes, sendPhoneSmsCode: bundles.sendPhoneSmsCode.bytes, userInfo: bundles.userInfo.bytes },
      throughput: inProcess.throughput,
      importRecordsPerSecond: importRun.recordsPerSecond,
      oneUserAtOnceSlowestMs: Object.fromEntries(Object.entries(contention.slowestMs).map(([mode, rounds]) => [mode, median(rounds)])),
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);

    // The report: every figure against its budget.
    const verdict = (ok: boolean) => (ok ? 'within' : 'MISSES');
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

    const calls = results.ddbCallsPerRequest;
    const callRow = (label: string, key: keyof typeof calls, budget?: number) =>
      [label, calls[key], budget === undefined ? '' : `<= ${budget}`, budget === undefined ? '' : verdict(calls[key] <= budget)];
    print("DynamoDB calls per request (recorded on the handlers' client)", ['path', 'calls', 'budget', ''], [
      callRow('relationPhone success', 'relationPhone.success', BUDGET.successCalls),
      callRow('relationPhone parameter error', 'relationPhone.validationError', BUDGET.validationErrorCalls),
      callRow('relationPhone wrong code', 'relationPhone.wrongCode', BUDGET.wrongCodeCalls),
      callRow('sendPhoneSmsCode success', 'sendPhoneSmsCode.success'),
    ]);

    const latency = results.latencyMs;
    const ratio = latency['relationPhone.success'].p50 / latency.floor.p50;
    print('Latency in process against DynamoDB Local, interleaved, ms', ['path', 'p50', 'p99', ''], [
      ['relationPhone success (the handler)', latency['relationPhone.success'].p50, latency['relationPhone.success'].p99, ''],
      ["floor (its DynamoDB calls, straight through the SDK's document client)", latency.floor.p50, latency.floor.p99, ''],
      ['handler / floor at p50', round(ratio, 2), '', `${verdict(ratio <= BUDGET.latencyRatio)} (budget <= ${BUDGET.latencyRatio})`],
      ['relationPhone parameter error', latency['relationPhone.validationError'].p50, latency['relationPhone.validationError'].p99, ''],
      ['sendPhoneSmsCode success, outbox for SNS', inProcess.sendPhoneSmsCodeWithoutSns.p50, inProcess.sendPhoneSmsCodeWithoutSns.p99, 'for the cost estimate'],
    ]);

    const over = (name: Case) => round(coldMs(name) - coldMs('bareNode'), 1);
    const overFloor = (name: Case) => round(over(name) / over('sdkFloor'), 2);
    const coldRow = (label: string, name: Case, note: string) =>
      [label, coldMs(name), over(name), name === 'sdkFloor' ? '' : overFloor(name), coldMs(name, 'importMs'), coldMs(name, 'invokeMs'), note];
    const coldVerdict = (name: Case) =>
      `${verdict(overFloor(name) <= BUDGET.coldStartRatio)} (budget <= ${BUDGET.coldStartRatio}, stretch ${BUDGET.coldStartStretchRatio})`;
    print(
      `Cold start: median of ${ROUNDS} fresh processes, spawn to end of the first invocation, ms; "/ floor" is over bare against the SDK floor's over bare`,
      ['process', 'median', 'over bare', '/ floor', 'import', 'invoke', ''],
      [
        ['bare node', coldMs('bareNode'), '', '', '', '', ''],
        coldRow("SDK floor: the SDK's document client and the two calls only", 'sdkFloor', `${kib(sdkFloor.bytes)}: what the SDK alone costs`),
        coldRow('relationPhone', 'relationPhone', coldVerdict('relationPhone')),
        coldRow('sendPhoneSmsCode', 'sendPhoneSmsCode', coldVerdict('sendPhoneSmsCode')),
        coldRow('relationPhone, pepper from Secrets Manager (stub)', 'relationPhoneWithSecret', 'as deployed: one more round trip'),
        coldRow('relationPhone with --enable-source-maps', 'relationPhoneWithSourceMaps', 'what turning source maps on would cost'),
      ],
    );

    print('Bundles (esbuild, as the stack deploys them)', ['function', 'bytes', 'size', ''], [
      ...Object.values(bundles).map((bundle) => [bundle.name, bundle.bytes, kib(bundle.bytes), verdict(bundle.bytes <= BUDGET.bundleBytes)]),
    ]);
    const biggest = bytesByPackage(bundles.relationPhone.metafile).slice(0, 8);
    console.log(`relationPhone's largest parts: ${biggest.map(([name, bytes]) => `${name} ${kib(bytes)}`).join(', ')}`);

    const throughput = results.throughput;
    const throughputRow = (label: string, key: keyof typeof throughput) => {
      const { reqPerSec, p99Ms, requests, seconds, errors } = throughput[key];
      return [label, reqPerSec, p99Ms, requests, seconds, errors];
    };
    print(
      `Throughput: the local server under autocannon, ${throughput['relationPhone.success'].connections} connections, in one process`,
      ['path', 'req/s', 'p99 ms', 'requests', 'seconds', 'errors'],
      [throughputRow('relationPhone parameter error', 'relationPhone.validationError'), throughputRow('relationPhone success (a fresh code each)', 'relationPhone.success')],
    );

    print(`Import: npm run import, ${importRun.records} JSON Lines records, ${importRun.concurrency} in flight, against the local server`, ['records', 'seconds', 'records/s', ''], [
      [importRun.records, importRun.seconds, importRun.recordsPerSecond, `${verdict(importRun.recordsPerSecond >= BUDGET.importRecordsPerSecond)} (budget >= ${BUDGET.importRecordsPerSecond})`],
    ]);

    print(
      `One user's requests at once: ${contention.atOnce} admin links of one uid, each to its own phone, against the admin handler; the slowest answer of each round, ms`,
      ['mode', 'median', 'rounds', 'answers other than 200'],
      Object.entries(contention.slowestMs).map(([mode, rounds]) => [
        mode,
        median(rounds),
        rounds.join(' '),
        Object.entries(contention.notLinked[mode as keyof typeof contention.notLinked]).map(([code, n]) => `${n} x ${code}`).join(', ') || 'none',
      ]),
    );

    console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)} in ${((performance.now() - began) / 1000).toFixed(0)} s.`);
  } finally {
    await stopAll();
  }

  function print(title: string, header: string[], rows: (string | number)[][]): void {
    console.log(`\n${title}\n${table(header, rows)}`);
  }
}

/**
 * bench/in-process.ts in a child process, with the logging and metrics
 * settings the construct deploys (INFO, metrics on); its stdout, where those
 * go, is discarded so they cost what they cost without burying the report.
 */
async function runInProcess(endpoint: string): Promise<InProcessResults> {
  const { METRICS_NAMESPACE, SERVICE_NAME } = await import('../lib/telemetry');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DYNAMODB_ENDPOINT: endpoint,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
  delete env.POWERTOOLS_METRICS_DISABLED;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'in-process.ts')], { env, stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    let report = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => (report += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 && report ? resolve(JSON.parse(report) as InProcessResults) : reject(new Error(`bench/in-process.ts exited with ${code}`))));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
