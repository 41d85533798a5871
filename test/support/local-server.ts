import { randomUUID } from 'node:crypto';
import type { ClientSettings } from '../../functions/adapters/aws/client-config';
import { multiRegionUsersTable, usersTable } from '../../functions/adapters/dynamodb/table-definitions';
import type { PhoneLinksMode } from '../../functions/tunables';
import { createLocalApp, type LocalApp } from '../../local/app';
import { createTables } from '../../local/dynamodb-local';
import { startLocalServer, type LocalServer, type LocalServerTimeouts } from '../../local/server';

export interface StartedServer {
  readonly app: LocalApp;
  readonly server: LocalServer;
  readonly tables: { codesTableName: string; usersTableName: string };
}

/**
 * The local server over real HTTP, on fresh tables of the shared DynamoDB
 * Local: `name` prefixes the tables, `env` adds settings (limits, rules);
 * `phoneLinks` 'ordered-writes' runs it as on a multi-Region table;
 * `timeouts` shortens the server's own, for a test that waits them out.
 */
export async function startServerOnFreshTables(
  name: string,
  options: {
    userDomain?: string;
    userDomainSecret?: string;
    env?: Record<string, string>;
    dynamoDbSettings?: ClientSettings;
    phoneLinks?: PhoneLinksMode;
    timeouts?: Partial<LocalServerTimeouts>;
  } = {},
): Promise<StartedServer> {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through the integration project');
  const suffix = randomUUID().slice(0, 8);
  const tables = { codesTableName: `${name}-codes-${suffix}`, usersTableName: `${name}-users-${suffix}` };
  const phoneLinks = options.phoneLinks ?? 'transactions';
  await createTables(endpoint, tables, phoneLinks === 'ordered-writes' ? multiRegionUsersTable : usersTable);
  const app = await createLocalApp({
    endpoint,
    userDomain: options.userDomain ?? 'test.phonelink',
    userDomainSecret: options.userDomainSecret ?? `${name}-test-secret`,
    env: { CODES_TABLE_NAME: tables.codesTableName, USERS_TABLE_NAME: tables.usersTableName, CODE_PEPPER: 'test-pepper', PHONE_LINKS_MODE: phoneLinks, ...options.env },
    dynamoDbSettings: options.dynamoDbSettings,
  });
  return { app, server: await startLocalServer({ app, port: 0, timeouts: options.timeouts }), tables };
}
