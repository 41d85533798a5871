/**
 * `npm start`: the whole API on this machine, with nothing to set up but Java.
 * DynamoDB Local (in memory unless --persist), the tables, the real handlers
 * and the local HTTP server. `npm start -- --help` lists the variables that
 * matter here (HELP below); README.md's "Configuration" has them all.
 *
 * Run as `node --import tsx local/start.ts` rather than through the tsx CLI:
 * one process fewer, and the orphan check below sees npm's shell go away.
 */
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../functions/adapters/aws/client-config';
import { defaultText, everyTunable, SIGNATURE_SETTINGS, SMS_SENDER, TOKEN_KEYS, POWERTOOLS, type LogLevel, type Tunable } from '../functions/tunables';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import type { LocalTokenKeys } from './app';
import type { DynamoDbLocal } from './dynamodb-local';
import { DEFAULT_DATA_DIR, LOCAL_VARIABLES, type LocalVariable } from './local-variables';
import type { LocalServer } from './server';

/** Quieter than the cloud's: the SMS lines and the start banner are what a local run is read for. */
const LOCAL_LOG_LEVEL: LogLevel = 'WARN';

// Before any SDK or logger module loads (hence the dynamic imports below).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env[POWERTOOLS.logLevel.env] ??= LOCAL_LOG_LEVEL;
// CloudWatch metrics (EMF lines on stdout) mean nothing here and would bury the SMS lines.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

class StartError extends Error {}

/** Of the functions' settings, those that change nothing here: the local server sets them itself, or has nothing they apply to. */
const NOT_LOCAL: readonly Tunable<unknown>[] = [
  SIGNATURE_SETTINGS.userDomains, // USER_DOMAIN
  TOKEN_KEYS.jwksJson, // a key made at start
  SMS_SENDER.senderId, // the outbox
  POWERTOOLS.secretsMaxAgeSeconds, // secrets are values here
];

type Row = readonly [name: string, fallback: string, meaning: string];

const localRow = (variable: LocalVariable): Row => [variable.name, variable.default ?? variable.unset ?? '-', variable.meaning];

/** The functions' settings that matter here, with the defaults they apply (functions/tunables.ts, so they cannot differ). */
const tunableRows = (): Row[] =>
  everyTunable()
    .filter((tunable) => !NOT_LOCAL.includes(tunable))
    .map((tunable) =>
      tunable === POWERTOOLS.logLevel ? [tunable.env, LOCAL_LOG_LEVEL, `${tunable.meaning} (${defaultText(tunable)} in the cloud)`] : [tunable.env, defaultText(tunable), tunable.meaning],
    );

/** `  NAME   default  meaning`, one line per variable, in columns. */
function table(rows: readonly Row[]): string[] {
  const nameWidth = Math.max(...rows.map(([name]) => name.length)) + 2;
  const fallbackWidth = Math.max(...rows.map(([, fallback]) => fallback.length));
  return rows.map(([name, fallback, meaning]) => `  ${name.padEnd(nameWidth)}${fallback.padStart(fallbackWidth)}  ${meaning}`);
}

const HELP = () =>
  [
    'Usage: npm start [-- --persist[=<dir>]]',
    '',
    'The whole API on http://127.0.0.1:<PORT>, on DynamoDB Local (needs Java 17+), with a local',
    'SMS outbox. Settings are environment variables, e.g. PORT=3001 npm start',
    '',
    'Local settings (default, meaning):',
    ...table(Object.values(LOCAL_VARIABLES).map(localRow)),
    '',
    'The functions\' settings, the same variables as in the cloud (default, meaning):',
    ...table(tunableRows()),
    '',
    'JWKS_URL and JWT_ISSUER verify tokens against a login service\'s key set (https, or http to',
    'loopback) and issuer, instead of a key made at start; the local token routes',
    '(POST /_local/users, /_local/tokens) are then off.',
    '',
    'Every variable, with its meaning: README.md, "Configuration".',
  ].join('\n');

interface Settings {
  readonly port: number;
  readonly userDomain: string;
  readonly userDomainSecret: string;
  readonly secretGenerated: boolean;
  /** Undefined: in memory. */
  readonly dataDir: string | undefined;
}

function readSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Settings | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const { port: portVariable, userDomain, userDomainSecret, dataDir: dataDirVariable } = LOCAL_VARIABLES;
  let dataDir = env[dataDirVariable.name]?.trim() || undefined;
  for (const arg of argv) {
    const persist = /^--persist(?:=(.*))?$/.exec(arg);
    if (persist) dataDir = persist[1]?.trim() || DEFAULT_DATA_DIR;
    else throw new StartError(`Unknown argument ${arg}. Usage: npm start [-- --persist[=<dir>]]; npm start -- --help lists the settings.`);
  }
  const rawPort = env[portVariable.name]?.trim() || portVariable.default;
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new StartError(`${portVariable.name} must be a port number (0-65535), got "${env[portVariable.name]}"`);
  const secret = env[userDomainSecret.name]?.trim();
  return {
    port,
    userDomain: env[userDomain.name]?.trim() || userDomain.default,
    userDomainSecret: secret || randomBytes(16).toString('hex'),
    secretGenerated: !secret,
    dataDir: dataDir && path.resolve(dataDir),
  };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const settings = readSettings(process.argv.slice(2), process.env);
  if (settings === 'help') {
    console.log(HELP());
    return;
  }
  const { JavaMissingError, createTables, startDynamoDbLocal } = await import('./dynamodb-local');
  const { LOCAL_TABLES, createLocalApp } = await import('./app');
  const { ConfigError, readPhoneLinksMode } = await import('../functions/config');
  const { multiRegionUsersTable, usersTable } = await import('../functions/adapters/dynamodb/table-definitions');
  const { FUNCTIONS } = await import('../functions/http/routes');
  const { PortInUseError, startLocalServer } = await import('./server');

  let dynamo: DynamoDbLocal | undefined;
  let server: LocalServer | undefined;
  let tokenKeys: LocalTokenKeys | undefined;
  let startup: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await startup.catch(() => undefined); // never leave a half-started Java process behind
    await server?.close().catch(() => undefined);
    await dynamo?.stop().catch(() => undefined);
    process.exit(exitCode);
  };
  // A second Ctrl+C does not wait any longer.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping ? process.exit(1) : void stop(0)));
  // `npm start` runs us under `sh -c`, and sh does not pass on the SIGTERM that
  // npm forwards to it: it just exits. Stop with our parent rather than linger
  // as an orphan holding the port and a Java process.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanCheck);
    void stop(0);
  }, 500).unref();

  startup = (async () => {
    // Say so at once, not after DynamoDB Local has taken its seconds to start.
    if (settings.port !== 0 && !(await portIsFree(settings.port))) throw new PortInUseError(settings.port);
    dynamo = await startDynamoDbLocal(settings.dataDir ? { dataDir: settings.dataDir } : {});
    const linksMode = readPhoneLinksMode();
    await createTables(dynamo.endpoint, LOCAL_TABLES, linksMode === 'ordered-writes' ? multiRegionUsersTable : usersTable);
    const app = await createLocalApp({
      endpoint: dynamo.endpoint,
      userDomain: settings.userDomain,
      userDomainSecret: settings.userDomainSecret,
      print: (line) => console.log(line),
      dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS,
    });
    tokenKeys = app.tokenKeys;
    server = await startLocalServer({ app, port: settings.port });
    const { everyMinutes, onlyWithLinks } = FUNCTIONS.linkReconciler;
    if (linksMode === onlyWithLinks) {
      // On the deployment's schedule: what a crash left pending is settled within about two runs.
      const reconcile = () => void app.reconcileLinks().catch((error: unknown) => console.error('Link reconciler failed:', error));
      setInterval(reconcile, everyMinutes * 60_000).unref();
    }
  })();
  try {
    await startup;
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof PortInUseError || error instanceof ConfigError) console.error(error.message);
    else console.error('Could not start the local API:', error);
    await stop(1);
    return;
  }
  if (stopping || !server || !tokenKeys) return;

  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  const { url } = server;
  console.log(
    [
      `Phone-link API (local) ready in ${seconds} s`,
      `  Base URL:     ${url}`,
      `  User domain:  ${settings.userDomain}`,
      `  Secret:       ${settings.userDomainSecret}${settings.secretGenerated ? '  (new each start; set USER_DOMAIN_SECRET to fix it)' : ''}`,
      ...tokenLines(tokenKeys, url),
      `  Outbox:       ${url}/_local/outbox?phone=%2B8613800138000   (SMS also print here)`,
      settings.dataDir
        ? `  Data:         kept in ${settings.dataDir} (tokens and codes still end with each start)`
        : `  Data:         in memory, gone on exit (npm start -- --persist keeps it in ${DEFAULT_DATA_DIR}/)`,
      'Ctrl+C stops.',
    ].join('\n'),
  );
}

/** Which key set verifies tokens, said at start: a token refused as 5032 is often a token for the other one. */
function tokenLines(keys: LocalTokenKeys, url: string): string[] {
  const issuer = keys.issuer === undefined ? 'not checked' : `must be ${keys.issuer}`;
  if (keys.source === 'jwks') {
    return [
      `  Tokens:       verified against the key set at ${keys.jwksUrl} (JWKS_URL); iss ${issuer}`,
      '                POST /_local/users and /_local/tokens are off: tokens come from that login service',
    ];
  }
  return [
    `  Tokens:       verified against a key made at this start (set JWKS_URL to use a login service's); iss ${issuer}`,
    `  Test user:    curl -X POST ${url}/_local/users   -> {"uid", "accessToken"}`,
  ];
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    // Anything but "in use" is left for the real listen to report.
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'EADDRINUSE'));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof StartError ? error.message : error);
  process.exit(1);
});
