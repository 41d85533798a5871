import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { logger, maskPhone, type MetricName } from '../observability';
import type { TokenVerifier, Users } from '../ports';
import { deletePhoneRelation, type DeletePhoneRelationDependencies } from '../use-cases/delete-phone-relation';
import { relationPhone, type RelationPhoneDependencies } from '../use-cases/relation-phone';
import { sendPhoneSmsCode, type SendPhoneSmsCodeDependencies } from '../use-cases/send-phone-sms-code';
import { userInfo } from '../use-cases/user-info';
import { ok, type HttpResult } from './envelope';
import { localeOf } from './locale';
import { authenticate, type AuthenticatedContext } from './middleware/authenticate';
import { envelopeErrors } from './middleware/envelope-errors';
import { outcomeMetrics } from './middleware/outcome-metrics';
import { queryOf, sourceIpOf } from './request';

/**
 * The HTTP handlers: each reads its request, calls its use case and answers
 * the envelope. Built from their dependencies so the Lambda entry points, the
 * local server and the tests run the very same code. Dependencies come
 * deferred: in the cloud, secrets load during the cold start and the first
 * request waits for them.
 */
export type Deferred<T> = () => Promise<T>;

/** Dependencies that are ready now (local server, tests). */
export const ready =
  <T>(value: T): Deferred<T> =>
  () =>
    Promise.resolve(value);

// Middlewares first, `.handler()` last; onError runs in reverse order, so the
// envelope is the last word on any error.
const publicEndpoint = (onSuccess: MetricName) =>
  middy<APIGatewayProxyEventV2, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(envelopeErrors())
    .use(outcomeMetrics(onSuccess));

const authenticatedEndpoint = (tokens: TokenVerifier, onSuccess?: MetricName) =>
  middy<APIGatewayProxyEventV2, HttpResult, Error, AuthenticatedContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(envelopeErrors())
    .use(outcomeMetrics(onSuccess))
    .use(authenticate(tokens));

export const createSendPhoneSmsCodeHandler = (deps: Deferred<SendPhoneSmsCodeDependencies>) =>
  publicEndpoint('CodesSent').handler(async (event) => {
    const { phone, internationalCode, codeType, userDomain, random, ts, signature } = queryOf(event);
    const sent = await sendPhoneSmsCode(
      { phone, internationalCode, codeType, userDomain, random, ts, signature, sourceIp: sourceIpOf(event) },
      await deps(),
    );
    logger.info('SMS code sent', { phone: maskPhone(sent.phone.e164), codeType });
    return ok(localeOf(event.headers), 'codeSent');
  });

export const createRelationPhoneHandler = (tokens: TokenVerifier, deps: Deferred<RelationPhoneDependencies>) =>
  authenticatedEndpoint(tokens, 'PhonesLinked').handler(async (event, context) => {
    const { phone, code, internationalCode } = queryOf(event);
    const linked = await relationPhone({ uid: context.uid, phone, code, internationalCode }, await deps());
    logger.info('Phone linked', { uid: context.uid, phone: maskPhone(linked.phone.e164) });
    return ok(localeOf(event.headers), 'linked');
  });

export const createDeletePhoneRelationHandler = (tokens: TokenVerifier, deps: Deferred<DeletePhoneRelationDependencies>) =>
  authenticatedEndpoint(tokens, 'PhonesUnlinked').handler(async (event, context) => {
    const unlinked = await deletePhoneRelation({ uid: context.uid, code: queryOf(event).code }, await deps());
    logger.info('Phone unlinked', { uid: context.uid, phone: maskPhone(unlinked.phone.e164) });
    return ok(localeOf(event.headers), 'unlinked');
  });

export const createUserInfoHandler = (tokens: TokenVerifier, deps: Deferred<{ users: Users }>) =>
  authenticatedEndpoint(tokens).handler(async (event, context) =>
    ok(localeOf(event.headers), 'success', await userInfo(context.uid, await deps())),
  );
