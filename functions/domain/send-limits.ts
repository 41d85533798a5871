/**
 * The caps on sending codes (docs/API.md, "sendPhoneSmsCode"): a send over
 * any of them is refused with 5058 before an SMS goes out. Their defaults,
 * variables and context keys are in functions/tunables.ts.
 */
export interface SendLimits {
  /** Seconds between two codes to one phone and purpose, from the last code issued. */
  readonly cooldownSeconds: number;
  readonly maxPerPhonePerDay: number;
  readonly maxPerIpPerHour: number;
  /** The global breaker; 0 refuses every send. */
  readonly maxPerMinute: number;
  /** The breaker of each destination country; 0 refuses every send. */
  readonly maxPerCountryPerMinute: number;
}
