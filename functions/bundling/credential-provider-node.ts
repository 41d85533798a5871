import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The functions' bundles get this for `@aws-sdk/credential-provider-node`
 * (BUNDLING in lib/constructs/api-function.ts): in Lambda the role's
 * credentials are in the environment, and the rest of the default chain
 * would only weigh on the bundle. Tests and the local server keep the SDK's.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
