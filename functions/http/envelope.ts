import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ResultCode, resultMessages } from '../domain/result-codes';

/** The platform's response body: always all four keys. */
export interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly extMsg: string;
  readonly data: object | null;
}

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

const respond = (statusCode: number, envelope: Envelope): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(envelope),
});

/** Success: HTTP 200, code 200. */
export const ok = (msg: string, data: object = {}): HttpResult =>
  respond(200, { code: ResultCode.Success, msg, extMsg: '', data });

/** A business refusal: HTTP 200 with its code; clients read `code`. */
export const refused = (code: number, msg: string): HttpResult => respond(200, { code, msg, extMsg: '', data: null });

/** An unexpected fault: HTTP 500 and nothing of its internals. */
export const fault = (): HttpResult =>
  respond(500, { code: ResultCode.InternalError, msg: resultMessages[ResultCode.InternalError], extMsg: '', data: null });
