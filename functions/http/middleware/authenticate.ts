import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { RuleViolation } from '../../domain/errors';
import { ResultCode } from '../../domain/result-codes';
import { InvalidToken, type TokenVerifier } from '../../ports';
import type { HttpResult } from '../envelope';

export type AuthenticatedContext = Context & { uid: string };

/** The scheme word, in any case, when a token or nothing follows it. */
const BEARER_SCHEME = /^bearer(?=\s|$)/i;

/**
 * `Authorization: Bearer <JWT>`, verified before anything else, parameters
 * and database included: 5106 without a token, 5032 for any bad one. The
 * scheme word is optional: some app clients send the bare token.
 */
export const authenticate = (
  verifier: TokenVerifier,
): MiddlewareObj<APIGatewayProxyEventV2, HttpResult, Error, AuthenticatedContext> => ({
  before: async (request) => {
    const header = request.event.headers?.authorization?.trim() ?? '';
    const token = header.replace(BEARER_SCHEME, '').trim();
    if (token === '') throw new RuleViolation(ResultCode.TokenRequired);
    try {
      request.context.uid = (await verifier.verify(token)).uid;
    } catch (error) {
      if (error instanceof InvalidToken) throw new RuleViolation(ResultCode.TokenVerificationFailed);
      throw error;
    }
  },
});
