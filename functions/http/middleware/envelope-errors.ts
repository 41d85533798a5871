import type { MiddlewareObj } from '@middy/core';
import { DomainError } from '../../domain/errors';
import { logger } from '../../observability';
import { fault, refused, type HttpResult } from '../envelope';

/**
 * The one place errors become responses: a DomainError is its envelope code
 * with HTTP 200; anything else is logged and answered as a bare HTTP 500.
 */
export const envelopeErrors = (): MiddlewareObj<unknown, HttpResult> => ({
  onError: async (request) => {
    const { error } = request;
    if (error instanceof DomainError) {
      if (error.cause !== undefined) {
        logger.warn('Refused after a provider fault', { code: error.code, error: asError(error.cause) });
      } else {
        logger.info('Refused', { code: error.code });
      }
      request.response = refused(error.code, error.message);
      return;
    }
    logger.error('Unhandled fault', asError(error));
    request.response = fault();
  },
});

// Logs (not responses) keep the fault's name, message and stack for the operator.
const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
