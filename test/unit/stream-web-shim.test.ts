import { Readable } from 'node:stream';
import { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ReadableStream } from '../../functions/bundling/stream-web';

/** The stand-in bundled for node:stream/web must answer middy's `instanceof ReadableStream` as Node's class does. */
describe('stream/web stand-in', () => {
  it.each([
    ['a web ReadableStream', new NodeReadableStream(), true],
    ['a Node Readable', Readable.from([]), false],
    ['a plain object', { getReader() {} }, false],
    ['a string', 'body', false],
    ['undefined', undefined, false],
  ])('%s: instanceof is %p', (_name, value, expected) => {
    expect(value instanceof (ReadableStream as unknown as typeof NodeReadableStream)).toBe(expected);
    expect(value instanceof NodeReadableStream).toBe(expected);
  });
});
