/**
 * What a signed send is checked against (docs/API.md, "App signature"): the
 * clock window of `ts`, how long a used `random` is remembered, and the
 * secrets of the user domains served. The window's defaults, variables and
 * context keys are in functions/tunables.ts.
 */
export interface SignatureWindow {
  readonly maxClockSkewSeconds: number;
  /** How long a used `random` is remembered per user domain. */
  readonly nonceTtlSeconds: number;
}

/** The window and the user domains served, as configured: before the secrets are read. */
export interface SignatureSettings extends SignatureWindow {
  /** The user domains this deployment serves; undefined = every domain with a secret. */
  readonly userDomains: readonly string[] | undefined;
}

export interface SignatureRules extends SignatureWindow {
  /** User domain -> its secret, for the domains served. */
  readonly userDomainSecrets: ReadonlyMap<string, string>;
}

/**
 * A `ts` is accepted from maxSkew before to maxSkew after the server clock,
 * so one signed request stays valid for 2 × maxSkew. A used `random`
 * forgotten sooner could be sent again with its original signature.
 */
export const minimumNonceTtlSeconds = (maxClockSkewSeconds: number): number => 2 * maxClockSkewSeconds;

/**
 * Why a window lets a signed request be replayed, or undefined when it does
 * not; `names` says how the reader calls each setting (a variable, a
 * context key) and `given` how the nonce TTL came (`1199`, `the default 1200`).
 */
export function windowReplayProblem(window: SignatureWindow, names: Readonly<Record<keyof SignatureWindow, string>>, given: string): string | undefined {
  const minimum = minimumNonceTtlSeconds(window.maxClockSkewSeconds);
  if (window.nonceTtlSeconds >= minimum) return undefined;
  return (
    `${names.nonceTtlSeconds} must be at least 2 × ${names.maxClockSkewSeconds} (${minimum}), got ${given}: ` +
    'a signed request stays valid that long, and a random forgotten sooner can be replayed'
  );
}
