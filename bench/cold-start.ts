import { spawn } from 'node:child_process';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { codesTable, createTableInput, usersTable } from '../functions/adapters/dynamodb/table-definitions';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lib/telemetry';
import { lambdaContext, toApiGatewayEvent } from '../local/api-gateway-event';
import { createLocalApp } from '../local/app';
import type { AwsStub } from './aws-stub';
import * as fixtures from './fixtures';

const CHILD_SCRIPT = path.join(__dirname, 'cold-start-child.mjs');
const BARE_SCRIPT = path.join(__dirname, 'bare-node-child.mjs');

/** The region the cold-start processes believe they run in, as Lambda sets AWS_REGION. */
const LAMBDA_REGION = 'us-east-1';
const TABLES = { codesTableName: 'bench-cold-codes', usersTableName: 'bench-cold-users' };

export interface ColdStart {
  /** Wall clock in the bench, from spawn() to the child's report after its invocation ended. */
  readonly wallMs: number;
  /** Inside the child: import of the bundle (module init). */
  readonly importMs: number;
  /** Inside the child: the first invocation. */
  readonly invokeMs: number;
  /** Inside the child: performance.now() at the end, i.e. since Node's time origin (process start). */
  readonly sinceProcessStart: number;
  readonly statusCode?: number;
  readonly body?: string;
  /** The end of what the process logged. */
  readonly output?: string;
}

export interface ColdStartBundles {
  readonly relationPhone: string;
  readonly sendPhoneSmsCode: string;
  /** bench/sdk-floor-entry.ts, bundled alike. */
  readonly sdkFloor: string;
}

/**
 * Cold starts of the bundles, `rounds` fresh processes each, interleaved
 * with bare Node and with the order turning every round, so drift in the
 * machine's load spreads over all. One warm-up round (disk cache) is dropped.
 * Every invocation is a success path against `endpoint` (and `stub` for SNS
 * and Secrets Manager), checked, or the bench stops.
 */
export async function measureColdStarts(endpoint: string, stub: AwsStub, bundles: ColdStartBundles, rounds: number) {
  await createTablesIn(LAMBDA_REGION, endpoint, TABLES);
  // Codes for the relationPhone runs come from an app on the same tables, pepper and key set.
  process.env.AWS_REGION = LAMBDA_REGION;
  const app = await createLocalApp({
    endpoint,
    userDomain: fixtures.USER_DOMAIN,
    userDomainSecret: fixtures.USER_DOMAIN_SECRET,
    env: { CODES_TABLE_NAME: TABLES.codesTableName, USERS_TABLE_NAME: TABLES.usersTableName, CODE_PEPPER: fixtures.CODE_PEPPER, ...fixtures.GENEROUS_LIMITS },
  });
  const links = await fixtures.prepareLinks(app, new fixtures.PhoneNumbers('138'), 4 * (rounds + 1)); // one per link case and round
  app.db.destroy();
  const sendPhones = new fixtures.PhoneNumbers('137');

  const env = lambdaEnv(endpoint, app.tokenIssuer.jwksJson, stub.endpoint);
  const { CODE_PEPPER: _plainPepper, ...withoutPepper } = env;
  const pepperFromSecretsManager = { ...withoutPepper, CODE_PEPPER_SECRET_ARN: stub.pepperArn, AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.endpoint };
  const withSourceMaps = { ...env, NODE_OPTIONS: `--enable-source-maps ${env.NODE_OPTIONS ?? ''}`.trim() };

  const link = (bundle: string, childEnv: Record<string, string>, name = 'relationPhone') => async () => {
    const fixture = links.pop() as fixtures.LinkFixture;
    const event = toApiGatewayEvent({
      method: 'POST',
      path: fixtures.RELATION_PHONE_PATH,
      // uid is for the SDK floor, which has no token to read it from; relationPhone ignores it.
      rawQueryString: `${fixtures.relationPhoneQuery({ phone: fixture.phone, code: fixture.code })}&uid=${encodeURIComponent(fixture.uid)}`,
      headers: { authorization: `Bearer ${fixture.token}` },
      sourceIp: '192.0.2.10',
    });
    return expectSuccess(await spawnOnce(CHILD_SCRIPT, [bundle, invocation(event, lambdaContext(name))], { ...childEnv, AWS_LAMBDA_FUNCTION_NAME: `phone-link-${name}` }), name);
  };
  const cases = {
    bareNode: () => spawnOnce(BARE_SCRIPT, [], env),
    relationPhone: link(bundles.relationPhone, env),
    sendPhoneSmsCode: async () => {
      const phone = sendPhones.take();
      const event = toApiGatewayEvent({ method: 'POST', path: fixtures.SEND_CODE_PATH, rawQueryString: fixtures.sendQuery(phone), headers: {}, sourceIp: '192.0.2.20' });
      const run = await spawnOnce(CHILD_SCRIPT, [bundles.sendPhoneSmsCode, invocation(event, lambdaContext('sendPhoneSmsCode'))], { ...env, AWS_LAMBDA_FUNCTION_NAME: 'phone-link-sendPhoneSmsCode' });
      if (!stub.published.has(`+${fixtures.CALLING_CODE}${phone}`)) throw new Error('sendPhoneSmsCode: no SMS reached the SNS stub');
      return expectSuccess(run, 'sendPhoneSmsCode');
    },
    relationPhoneWithSecret: link(bundles.relationPhone, pepperFromSecretsManager),
    relationPhoneWithSourceMaps: link(bundles.relationPhone, withSourceMaps),
    sdkFloor: link(bundles.sdkFloor, env, 'sdkFloor'),
  };

  const names = Object.keys(cases) as (keyof typeof cases)[];
  const runs = Object.fromEntries(names.map((name) => [name, [] as ColdStart[]])) as Record<keyof typeof cases, ColdStart[]>;
  for (let round = 0; round <= rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length] as keyof typeof cases;
      const run = await cases[name]();
      if (round > 0) runs[name].push(run);
    }
  }
  return runs;
}

/**
 * What Lambda and the stack (lib/constructs/api-function.ts) give a
 * function, with credentials that only the local endpoints accept. Nothing
 * is inherited from the bench.
 */
function lambdaEnv(endpoint: string, jwksJson: string, stubEndpoint: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // Lambda's own.
    AWS_REGION: LAMBDA_REGION,
    AWS_DEFAULT_REGION: LAMBDA_REGION,
    AWS_ACCESS_KEY_ID: 'ASIABENCHLOCAL',
    AWS_SECRET_ACCESS_KEY: 'bench-local-secret',
    AWS_SESSION_TOKEN: 'bench-local-session',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    // The construct's.
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    CODES_TABLE_NAME: TABLES.codesTableName,
    USERS_TABLE_NAME: TABLES.usersTableName,
    // The secrets as plain values (the cloud reads them from Secrets Manager at init: see relationPhoneWithSecret).
    CODE_PEPPER: fixtures.CODE_PEPPER,
    USER_DOMAIN_SECRETS: JSON.stringify({ [fixtures.USER_DOMAIN]: fixtures.USER_DOMAIN_SECRET }),
    JWKS_JSON: jwksJson,
    // The bench's: DynamoDB Local and the SNS stub instead of AWS.
    DYNAMODB_ENDPOINT: endpoint,
    AWS_ENDPOINT_URL_SNS: stubEndpoint,
    // Node 20 here: the SDK floor would print the SDK's "Node 22 soon required" warning, which Lambda's Node 22 never does.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * One fresh `node` process: `script` with `args`, in exactly `env`, its
 * logs (stdout, stderr) read as Lambda's log pipe would and kept for an
 * error message, its report read from file descriptor 3.
 */
function spawnOnce(script: string, args: readonly string[], env: Record<string, string>): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let report = '';
    let output = '';
    let reportedAt: number | undefined;
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      reportedAt ??= performance.now();
      report += chunk.toString();
    });
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 || reportedAt === undefined) {
        reject(new Error(`${path.basename(script)} ${args[0] ?? ''} exited with ${code}: ${output.trim()}`));
        return;
      }
      resolve({ ...(JSON.parse(report.trim()) as Omit<ColdStart, 'wallMs'>), wallMs: reportedAt - started, output });
    });
  });
}

/** The event and the serialisable part of the context; the child adds the context's functions back. */
const invocation = (event: APIGatewayProxyEventV2, context: Context): string =>
  JSON.stringify({ event, context: Object.fromEntries(Object.entries(context).filter(([, value]) => typeof value !== 'function')) });

function expectSuccess(run: ColdStart, what: string): ColdStart {
  const code = run.body ? (JSON.parse(run.body) as { code?: number }).code : undefined;
  if (run.statusCode !== 200 || code !== 200) throw new Error(`${what} cold start answered ${run.statusCode} ${run.body}\n${run.output ?? ''}`);
  return run;
}

/**
 * DynamoDB Local keeps one database per region (and access key): the tables
 * of the cold-start processes live in the region they run in, where
 * local/dynamodb-local.ts's createTables uses "local".
 */
async function createTablesIn(region: string, endpoint: string, tables: typeof TABLES): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await client.send(new CreateTableCommand(createTableInput(codesTable, tables.codesTableName)));
    await client.send(new CreateTableCommand(createTableInput(usersTable, tables.usersTableName)));
  } finally {
    client.destroy();
  }
}
