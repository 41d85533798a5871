import { JoseTokenVerifier } from '../adapters/auth/jose-token-verifier';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { readAuthConfig, readDynamoDbEndpoint } from '../config';

/**
 * What the Lambda entry points share. Each entry builds its clients and
 * adapters at module scope, once per container (the cold start), so a
 * missing setting fails at once and the clients are reused by every request.
 */
export const documentClient = () => createDocumentClient(readDynamoDbEndpoint());

export const tokenVerifier = (): JoseTokenVerifier => new JoseTokenVerifier(readAuthConfig());
