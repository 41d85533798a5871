import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DomainError } from '../../domain/errors';
import { logger } from '../../observability';
import { fault, refused, type HttpResult } from '../envelope';
import { localeOf } from '../locale';

/**
 * The one place errors become responses: a DomainError is its envelope code
 * with HTTP 200; anything else is logged and answered as a bare HTTP 500.
 */
export const envelopeErrors = (): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> => ({
  onError: async (request) => {
    const { error } = request;
    const locale = localeOf(request.event?.headers);
    if (error instanceof DomainError) {
      if (error.cause !== undefined) {
        logger.warn('Refused after a provider fault', { code: error.code, error: asError(error.cause) });
      } else {
        logger.info('Refused', { code: error.code });
      }
      request.response = refused(locale, error);
      return;
    }
    logger.error('Unhandled fault', asError(error));
    request.response = fault(locale);
  },
});

// Logs (not responses) keep the fault's name, message and stack for the operator.
const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
