import { maskPhone } from '../../observability';

/**
 * Providers name the number in some of their error messages ("+86... is not
 * valid to publish to"); the logs must not. These mask it, written with or
 * without its `+`.
 */
export const maskedNumberIn = (text: string, to: string): string =>
  text.split(to).join(maskPhone(to)).split(to.replace(/^\+/, '')).join(maskPhone(to));

/** The error itself, its message and stack with the number masked, for an error passed on as it is. */
export function withNumberMasked(error: unknown, to: string): unknown {
  if (!(error instanceof Error)) return error;
  error.message = maskedNumberIn(error.message, to);
  if (error.stack) error.stack = maskedNumberIn(error.stack, to);
  return error;
}
