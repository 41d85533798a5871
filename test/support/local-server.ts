import { randomUUID } from 'node:crypto';
import { createLocalApp, type LocalApp } from '../../local/app';
import { createTables } from '../../local/dynamodb-local';
import { startLocalServer, type LocalServer } from '../../local/server';

/**
 * The local server over real HTTP, on fresh tables of the shared DynamoDB
 * Local: `name` prefixes the tables, `env` adds settings (limits, rules).
 */
export async function startServerOnFreshTables(
  name: string,
  options: { userDomain?: string; userDomainSecret?: string; env?: Record<string, string> } = {},
): Promise<{ app: LocalApp; server: LocalServer; tables: { codesTableName: string; usersTableName: string } }> {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through the integration project');
  const suffix = randomUUID().slice(0, 8);
  const tables = { codesTableName: `${name}-codes-${suffix}`, usersTableName: `${name}-users-${suffix}` };
  await createTables(endpoint, tables);
  const app = await createLocalApp({
    endpoint,
    userDomain: options.userDomain ?? 'test.phonelink',
    userDomainSecret: options.userDomainSecret ?? `${name}-test-secret`,
    env: { CODES_TABLE_NAME: tables.codesTableName, USERS_TABLE_NAME: tables.usersTableName, CODE_PEPPER: 'test-pepper', ...options.env },
  });
  return { app, server: await startLocalServer({ app, port: 0 }), tables };
}
