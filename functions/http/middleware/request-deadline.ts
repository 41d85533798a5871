import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { Deadline } from '../../request-budget';
import type { HttpResult } from '../envelope';

export type DeadlineContext = Context & { deadline: Deadline };

/**
 * The request's deadline, made once as it starts, from the time Lambda says
 * the function has left: the very moment middy cuts the handler off
 * (RESPONSE_MARGIN_MS before the timeout). Handed to the use cases as
 * `context.deadline`, it bounds their waiting for a turn.
 */
export const requestDeadline = (): MiddlewareObj<APIGatewayProxyEventV2, HttpResult, Error, DeadlineContext> => ({
  before: async (request) => {
    request.context.deadline = Deadline.fromRemainingTime(request.context.getRemainingTimeInMillis());
  },
});
