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
      if (error.cause !== undefined) logger.warn('Request refused after a provider fault', { code: error.code, cause: error.cause });
      request.response = refused(error.code, error.message);
      return;
    }
    logger.error('Unhandled fault', error instanceof Error ? error : String(error));
    request.response = fault();
  },
});
