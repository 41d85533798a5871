import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles
 * only (an esbuild alias in lib/constructs/api-function.ts); tests and the
 * local server keep the SDK's full chain. Lambda gives a function its role's
 * credentials in environment variables, so the rest of the default chain
 * (SSO, INI files, processes, web identity, instance metadata, with the STS
 * and SSO clients they bring) never runs there: leaving it out takes about
 * 140 KiB from each bundle.
 */
export const defaultProvider = fromEnv;
