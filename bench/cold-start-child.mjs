// One cold start, in a fresh `node` process, as Lambda's runtime does it:
// import the bundle, then invoke its `handler` once with an API Gateway event.
// argv: <bundle file> <JSON {event, context}>. Reports on file descriptor 3.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, invocation] = process.argv.slice(2);
const { event, context } = JSON.parse(invocation);
const importStart = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const result = await handler(event, { ...context, getRemainingTimeInMillis: () => 10_000, done() {}, fail() {}, succeed() {} });
const done = performance.now();
writeSync(3, `${JSON.stringify({ importMs: imported - importStart, invokeMs: done - imported, sinceProcessStart: done, statusCode: result.statusCode, body: result.body })}\n`);
// Keep-alive sockets would hold the process open; Lambda would freeze it here instead.
process.exit(0);
