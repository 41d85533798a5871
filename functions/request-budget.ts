/**
 * The time a request has. Lambda stops a function at its timeout
 * (lib/constructs/api-function.ts; test/cdk/function-timeout.test.ts pins
 * the two together), and every request must answer, or fail with a 500, at
 * least RESPONSE_MARGIN_MS before that. The SDK clients' attempts and
 * timeouts are sized from it (adapters/aws/client-config.ts); whatever they
 * cannot bound (re-reads after a conflict or drift, a secret or key set
 * fetched at cold start) is cut off by middy at the margin (http/handlers.ts).
 */
export const FUNCTION_TIMEOUT_MS = 10_000;
export const RESPONSE_MARGIN_MS = 1_000;
export const REQUEST_BUDGET_MS = FUNCTION_TIMEOUT_MS - RESPONSE_MARGIN_MS;
