import { JoseTokenVerifier } from '../adapters/auth/jose-token-verifier';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoUsers } from '../adapters/dynamodb/users';
import { DynamoVerificationCodes } from '../adapters/dynamodb/verification-codes';
import { readAuthConfig, readTablesConfig, type TablesConfig } from '../config';

/**
 * Adapters built from configuration, once per container (at cold start), so
 * a missing setting fails at once and clients are reused across invocations.
 */
export function dynamoAdapters(tables: TablesConfig = readTablesConfig()) {
  const db = createDocumentClient(tables);
  return { db, users: new DynamoUsers(db, tables), codes: new DynamoVerificationCodes(db, tables.codesTableName) };
}

export const tokenVerifier = (): JoseTokenVerifier => new JoseTokenVerifier(readAuthConfig());
