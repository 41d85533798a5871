/**
 * The import's throughput: `npm run import` as operators run it, a child
 * process reading a JSON Lines file of distinct links and sending them to
 * a local server (the real admin handler, on fresh tables of the bench's
 * DynamoDB Local, in this process). The figure is the one the import's
 * own summary prints: records done per second, start to end of the run.
 */
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../functions/adapters/aws/client-config';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalApp } from '../local/app';
import { createTables } from '../local/dynamodb-local';
import { runImportCli } from '../local/import/run-cli';
import { startLocalServer } from '../local/server';

const RECORDS = Number(process.env.BENCH_IMPORT_RECORDS ?? 10_000);
/** The import's default. */
const CONCURRENCY = 16;

export interface ImportRun {
  readonly records: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

/** Distinct uids and distinct valid mobile numbers (China, 139 and eight digits). */
function writeRecords(file: string, count: number): void {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ uid: `bench-import-${i}`, phone: `139${String(i).padStart(8, '0')}`, internationalCode: '86' }));
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export async function measureImport(endpoint: string, workDir: string): Promise<ImportRun> {
  const suffix = randomUUID().slice(0, 8);
  const tables = { codesTableName: `bench-import-codes-${suffix}`, usersTableName: `bench-import-users-${suffix}` };
  await createTables(endpoint, tables);
  const app = await createLocalApp({
    endpoint,
    userDomain: 'bench.phonelink',
    userDomainSecret: 'bench-import-secret',
    env: { CODES_TABLE_NAME: tables.codesTableName, USERS_TABLE_NAME: tables.usersTableName },
    dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS,
  });
  const server = await startLocalServer({ app, port: 0 });
  const file = path.join(workDir, 'import.jsonl');
  writeRecords(file, RECORDS);
  try {
    const { code, stdout, stderr } = await runImportCli([file, '--url', server.url, '--concurrency', String(CONCURRENCY)]);
    const figure = (label: string) => Number(new RegExp(`^${label}:\\s+([\\d.]+)$`, 'm').exec(stdout)?.[1]);
    // A request retried after a server fault may count as already there: the records are all in place either way.
    if (code !== 0 || figure('linked') + figure('already there') !== RECORDS) {
      throw new Error(`npm run import exited with ${code}, ${figure('linked')} of ${RECORDS} linked:\n${stdout}\n${stderr.slice(-2000)}`);
    }
    return { records: RECORDS, concurrency: CONCURRENCY, seconds: figure('seconds'), recordsPerSecond: Math.round(figure('records/s')) };
  } finally {
    await server.close();
    app.db.destroy();
  }
}

