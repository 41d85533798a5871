// One Lambda execution environment, as the Node.js runtime runs one: the
// bundle is imported once (module scope reads its configuration from this
// process's environment), then each invocation calls `handler(event, context)`,
// one at a time.
// argv: <bundle file>. Invocations arrive as JSON lines on stdin
// ({id, event, context, timeoutMs}); the init report ({ready} or {initError})
// and each answer ({id, result} or {id, error}) go to file descriptor 3,
// so that the function's own logs keep stdout and stderr, as in Lambda.
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
const report = (message) => writeSync(3, `${JSON.stringify(message)}\n`);
const describe = (error) => ({
  errorType: error instanceof Error ? error.name : typeof error,
  errorMessage: error instanceof Error ? error.message : String(error),
  stack: error instanceof Error ? error.stack : undefined,
});

let handler;
try {
  ({ handler } = await import(pathToFileURL(bundle).href));
  if (typeof handler !== 'function') throw new TypeError(`${bundle} exports no handler function`);
  report({ ready: true });
} catch (error) {
  // Lambda logs an init error, and fails every invocation of this environment with it.
  console.error(JSON.stringify({ message: 'Init error', ...describe(error) }));
  report({ initError: describe(error) });
}

for await (const line of createInterface({ input: process.stdin })) {
  const { id, event, context, timeoutMs } = JSON.parse(line);
  const deadline = Date.now() + timeoutMs;
  try {
    if (!handler) throw new Error('the function failed to initialise');
    const result = await handler(event, {
      ...context,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done() {},
      fail() {},
      succeed() {},
    });
    report({ id, result: result ?? null });
  } catch (error) {
    report({ id, error: describe(error) });
  }
}
