import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { DomainError } from '../domain/errors';
import { messageText, type Locale, type SuccessMessage } from '../domain/messages';
import { ResultCode } from '../domain/result-codes';

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
export const ok = (locale: Locale, message: SuccessMessage, data: object = {}): HttpResult =>
  respond(200, { code: ResultCode.Success, msg: messageText(locale, message), extMsg: '', data });

/** A business refusal: HTTP 200 with its code; clients read `code`. */
export const refused = (locale: Locale, error: DomainError): HttpResult =>
  respond(200, { code: error.code, msg: messageText(locale, error.code, error.parameter), extMsg: '', data: null });

/** An unexpected fault: HTTP 500 and nothing of its internals. */
export const fault = (locale: Locale): HttpResult =>
  respond(500, { code: ResultCode.InternalError, msg: messageText(locale, ResultCode.InternalError), extMsg: '', data: null });
