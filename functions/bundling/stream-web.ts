/**
 * What the functions' bundles get for `node:stream/web` (the alias in
 * BUNDLING, lib/constructs/api-function.ts).
 *
 * @middy/core imports `ReadableStream` from that module only to test a
 * response with `instanceof` in its response-streaming mode, which these
 * functions do not use. Importing Node's module loads the whole Web Streams
 * implementation at every cold start (docs/PERFORMANCE.md has what it cost).
 * This stand-in answers the same `instanceof` through the global
 * `ReadableStream`, which Node loads only if it is ever asked.
 */
export const ReadableStream = {
  [Symbol.hasInstance]: (value: unknown): boolean => value instanceof globalThis.ReadableStream,
};
