// The baseline of the cold-start figures: a fresh `node` process that does
// nothing but report, on file descriptor 3, as bench/cold-start-child.mjs does.
import { writeSync } from 'node:fs';

writeSync(3, `${JSON.stringify({ importMs: 0, invokeMs: 0, sinceProcessStart: performance.now() })}\n`);
process.exit(0);
