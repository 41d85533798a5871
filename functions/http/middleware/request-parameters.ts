import type { MiddlewareObj, Request } from '@middy/core';
import jsonBodyParser from '@middy/http-json-body-parser';
import urlEncodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { InvalidParameter } from '../../domain/errors';
import type { HttpResult } from '../envelope';

/** Request parameters by name: the query's, over the body's. */
export type RequestParameters = Readonly<Partial<Record<string, string>>>;

export type ParametersContext = Context & { parameters: RequestParameters };

/** The part of an event the body parsers read and rewrite. */
interface BodyEvent {
  headers: Record<string, string>;
  body: unknown;
  isBase64Encoded: boolean;
}

type BodyReader = { before: (request: Request<BodyEvent>) => Promise<void> };

// Each parser reads only its own media type and lets any other pass untouched.
const BODY_READERS = [jsonBodyParser({ disableContentTypeError: true }), urlEncodeBodyParser({ disableContentTypeError: true })] as unknown as BodyReader[];

/**
 * The request's parameters, handed to the handler as `context.parameters`:
 * the query string's, and those of an `application/x-www-form-urlencoded` or
 * JSON object body, a name in the query winning even with an empty value.
 * Other content types are not read. A body that cannot be read as its type
 * says answers 400 "Invalid parameter: body". Placed after the token check,
 * so the token still answers first.
 */
export const requestParameters = (): MiddlewareObj<APIGatewayProxyEventV2, HttpResult, Error, ParametersContext> => ({
  before: async (request) => {
    const parameters: Record<string, string> = Object.create(null);
    for (const [name, value] of Object.entries(await bodyParametersOf(request))) parameters[name] = value;
    for (const [name, value] of Object.entries(request.event.queryStringParameters ?? {})) {
      if (value !== undefined) parameters[name] = value;
    }
    request.context.parameters = parameters;
  },
});

async function bodyParametersOf(request: Request<APIGatewayProxyEventV2>): Promise<Record<string, string>> {
  const { body, isBase64Encoded, headers } = request.event;
  const text = body === undefined ? '' : isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  // Many clients declare JSON and send nothing, their parameters in the query.
  if (text.trim() === '') return {};

  // The parsers match the media type case-sensitively and dislike spaces around
  // its parameters; the bare lower-cased type is what they need to know.
  const mediaType = (headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const event: BodyEvent = { headers: { 'content-type': mediaType }, body: text, isBase64Encoded: false };
  try {
    for (const reader of BODY_READERS) await reader.before({ ...request, event });
  } catch {
    throw new InvalidParameter('body');
  }
  // A parser that read the body replaced its text with what it read.
  if (event.body === text) return {};
  return stringValuesOf(event.body);
}

/** Each value as a string; anything but a string or a finite number makes the body unreadable. */
function stringValuesOf(parsed: unknown): Record<string, string> {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidParameter('body');
  const values: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') values[name] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) values[name] = decimal(value);
    else throw new InvalidParameter('body');
  }
  return values;
}

/** A number in plain decimal digits, never in exponent form: 1e21 -> "1000000000000000000000". */
export function decimal(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  const text = String(value);
  if (!text.includes('e')) return text;
  // A fraction prints with an exponent only below 1e-6: move the point left.
  const [mantissa = '', exponent = ''] = text.split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  return `${sign}0.${'0'.repeat(-Number(exponent) - 1)}${digits}`;
}
