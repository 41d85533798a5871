/**
 * SigV4 for the admin routes of a deployed stack (API Gateway checks IAM
 * authorization on them), with the AWS SDK's own signer and credential
 * chain: nothing of the signing is done by hand.
 */

/** A request about to be sent. */
export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The headers to send instead of `headers`: these plus the signature's. */
export type RequestSigner = (request: RequestToSign) => Promise<Record<string, string>>;

/** Signing cannot be set up (no region, no credentials): every request would fail the same. */
export class SigningSetupError extends Error {
  override name = 'SigningSetupError';
}

export const SIGNING_SERVICE = 'execute-api';

/** 127.0.0.0/8, localhost and ::1: the local server, which takes unsigned requests. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** The region in an API Gateway URL: `<id>.execute-api.<region>.amazonaws.com` (or `.com.cn`). */
export function regionFromHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/i.exec(hostname)?.[1]?.toLowerCase();
}

/** --region, else the URL's, else AWS_REGION, else AWS_DEFAULT_REGION. */
export function resolveRegion(flag: string | undefined, url: URL, env: NodeJS.ProcessEnv): string {
  const region = flag?.trim() || regionFromHost(url.hostname) || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) {
    throw new SigningSetupError(
      `Cannot tell which AWS region to sign for: ${url.host} is not an *.execute-api.<region>.amazonaws.com host. Give --region, or set AWS_REGION.`,
    );
  }
  return region;
}

/**
 * A signer for `execute-api` in `region`, with credentials from the usual
 * environment (variables, profile, SSO, web identity, container or instance
 * role). They are loaded once here, so a run without any stops before its
 * first request; the chain refreshes them when they expire.
 */
export async function createSigV4Signer(region: string): Promise<RequestSigner> {
  // Loaded only when signing: a local import does not pay for them.
  const [{ SignatureV4 }, { Sha256 }, { fromNodeProviderChain }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-providers'),
  ]);
  const credentials = fromNodeProviderChain();
  try {
    await credentials();
  } catch (error) {
    throw new SigningSetupError(
      `No AWS credentials to sign with (${error instanceof Error ? error.message : String(error)}). Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role applies.`,
    );
  }
  const signer = new SignatureV4({ service: SIGNING_SERVICE, region, credentials, sha256: Sha256 });

  return async ({ method, url, headers, body }) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      // As sent: percent-encoded. The signer encodes it once more, as SigV4 wants for every service but S3.
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    // fetch sends the URL's host itself, the very value signed.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}
