import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the functions' bundles get for `@aws-sdk/credential-provider-node`
 * (an alias in BUNDLING, lib/constructs/api-function.ts); tests and the
 * local server keep the SDK's full chain.
 *
 * Every SDK client imports the default credential chain, whatever its
 * configuration says. In Lambda the role's credentials are in the
 * environment, and the functions' clients take them from there
 * (functions/adapters/aws/client-config.ts): the rest of the chain
 * (profiles, SSO, web identity, containers, instance metadata, and the STS
 * and SSO clients they bring) would only weigh on the bundle and the cold
 * start. Should a client ever fall back on the default chain, it gets the
 * environment's credentials all the same.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
