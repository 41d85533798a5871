import { JoseTokenVerifier } from '../adapters/auth/jose-token-verifier';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { readAuthConfig, readDynamoDbEndpoint } from '../config';

/**
 * What the Lambda entry points share: clients and adapters are built once per
 * container, at cold start, so a missing setting fails at once and clients
 * are reused across invocations.
 */
export const documentClient = () => createDocumentClient(readDynamoDbEndpoint());

export const tokenVerifier = (): JoseTokenVerifier => new JoseTokenVerifier(readAuthConfig());

/**
 * Loads once and caches what needs a network call (secrets). The load starts
 * at once, during the cold start, and is awaited by the first request; a
 * failed load is retried by the next request instead of being cached.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  const get = () => (loading ??= load().catch((error: unknown) => ((loading = undefined), Promise.reject(error))));
  get().catch(() => undefined);
  return get;
}
