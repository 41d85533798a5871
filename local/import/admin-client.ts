import { pathTo, ROUTES } from '../../functions/http/routes';
import type { ImportRecord } from './records';
import type { RequestSigner } from './signing';

/**
 * One record, one call of the admin route that links a phone:
 * `PUT <base>/admin/v1/users/{uid}/phone`, body `{"phone", "internationalCode"}`.
 * The envelope decides the outcome; HTTP 429, 5xx and network faults are
 * tried again; 401 and 403 end the run, since every record would fail the
 * same, and so does a server that stays out of reach through every attempt.
 */

export type LinkOutcome =
  | { readonly kind: 'linked' }
  | { readonly kind: 'already-there' }
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Not this record's fault: the whole run stops. */
  | { readonly kind: 'fatal'; readonly reason: string };

export interface AdminClient {
  /** The outcome, and how many requests it took (more than one: faults were tried again). */
  linkPhone(record: ImportRecord): Promise<LinkOutcome & { readonly attempts: number }>;
}

export interface RetrySettings {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The first retry waits up to this long (full jitter), each next one up to twice as long. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface AdminClientOptions {
  /** The API's base URL; a path in it (a stage) is kept. */
  readonly baseUrl: URL;
  /** Signs each attempt; none for the local server. */
  readonly sign?: RequestSigner;
  readonly retry?: RetrySettings;
  /** An attempt that has no answer by then is a fault like any other, tried again. */
  readonly timeoutMs?: number;
}

export const DEFAULT_RETRY: RetrySettings = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 };
const DEFAULT_TIMEOUT_MS = 30_000;
/** A Retry-After longer than this is not waited for: the record is rejected instead. */
const MAX_RETRY_AFTER_MS = 20_000;

/** A reason to try again (`unreached`: no HTTP answer at all), or the final answer. */
type Attempt = LinkOutcome | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number; readonly unreached?: true };

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const retry = options.retry ?? DEFAULT_RETRY;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const basePath = options.baseUrl.pathname.replace(/\/+$/, '');

  const attempt = async (record: ImportRecord): Promise<Attempt> => {
    const url = new URL(options.baseUrl.origin);
    url.pathname = `${basePath}${pathTo(ROUTES.adminLinkPhone, { uid: record.uid })}`;
    const body = JSON.stringify(record.internationalCode === undefined ? { phone: record.phone } : { phone: record.phone, internationalCode: record.internationalCode });
    const plain = { 'content-type': 'application/json' };
    let headers: Record<string, string> = plain;
    try {
      if (options.sign) headers = await options.sign({ method: ROUTES.adminLinkPhone.method, url, headers: plain, body });
    } catch (error) {
      return { kind: 'retry', reason: `signing failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return { kind: 'retry', reason: faultReason(error, timeoutMs), unreached: true };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return { kind: 'retry', reason: faultReason(error, timeoutMs) };
    }
    return judge(response.status, text, response.headers.get('retry-after'));
  };

  return {
    async linkPhone(record) {
      for (let tried = 1; ; tried++) {
        const outcome = await attempt(record);
        if (outcome.kind !== 'retry') return { ...outcome, attempts: tried };
        if (tried >= retry.attempts) {
          // No answer at all, however often asked: the server is gone, not this record at fault.
          if (outcome.unreached) return { kind: 'fatal', reason: `${cannotReach(options.baseUrl)} (${outcome.reason}, after ${tried} attempts)`, attempts: tried };
          return { kind: 'rejected', reason: `${outcome.reason} (after ${tried} attempts)`, attempts: tried };
        }
        if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > MAX_RETRY_AFTER_MS) {
          return { kind: 'rejected', reason: `${outcome.reason} (Retry-After too long)`, attempts: tried };
        }
        // Exponential backoff with full jitter, or the server's Retry-After when that is longer.
        const backoff = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (tried - 1));
        await new Promise((resolve) => setTimeout(resolve, Math.max(backoff, outcome.retryAfterMs ?? 0)));
      }
    },
  };
}

interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly data?: { readonly alreadyLinked?: unknown } | null;
}

/** What an answer means for the record. */
export function judge(status: number, text: string, retryAfter: string | null = null): Attempt {
  const body = parseJson(text);
  const envelope = isEnvelope(body) ? body : undefined;
  const detail = envelope?.msg ?? messageOf(body) ?? (text.trim().slice(0, 200) || undefined);
  const described = `HTTP ${status}${detail ? ` ${detail}` : ''}`;

  if (status === 401 || status === 403) {
    return {
      kind: 'fatal',
      reason: `The API refused the request (${described}): the admin routes need SigV4-signed requests from a principal granted execute-api:Invoke on them. Check the credentials and --url, or --sign.`,
    };
  }
  if (status === 429 || status >= 500) {
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    return { kind: 'retry', reason: described, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) };
  }
  if (!envelope) return { kind: 'rejected', reason: `${described} (not the API's envelope)` };
  if (envelope.code !== 200) return { kind: 'rejected', reason: `${envelope.code} ${envelope.msg}` };
  return envelope.data?.alreadyLinked === true ? { kind: 'already-there' } : { kind: 'linked' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isEnvelope = (value: unknown): value is Envelope =>
  typeof value === 'object' && value !== null && typeof (value as Envelope).code === 'number' && typeof (value as Envelope).msg === 'string';

/** API Gateway's own answers: `{"message": "Forbidden"}`. */
const messageOf = (value: unknown): string | undefined => {
  const message = (value as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
};

/** Read by shape, not `instanceof`: fetch's errors may come from another realm (a test runner's sandbox). */
function faultReason(error: unknown, timeoutMs: number): string {
  const fault = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (fault.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const { cause } = fault;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : typeof fault.message === 'string' ? fault.message : String(error);
  return `network error: ${detail}`;
}

/** `cannot reach http://127.0.0.1:3000`: the API's base URL as given, without a trailing slash. */
export const cannotReach = (baseUrl: URL): string => `cannot reach ${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Asked once before the first record: does anything answer HTTP at the
 * API's URL? Any answer will do (a 404 or a 403 too). Undefined when one
 * came; otherwise why none did (refused, no such host, no answer in time).
 * A server that is not there then costs no record, and no rejects file.
 */
export async function whyUnreachable(baseUrl: URL, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  try {
    const response = await fetch(baseUrl, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return undefined;
  } catch (error) {
    return faultReason(error, timeoutMs);
  }
}
