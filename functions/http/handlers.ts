import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { relationPhone, type RelationPhoneDependencies } from '../use-cases/relation-phone';
import { sendPhoneSmsCode, type SendPhoneSmsCodeDependencies } from '../use-cases/send-phone-sms-code';
import { userInfo } from '../use-cases/user-info';
import type { TokenVerifier, Users } from '../ports';
import { ok, type HttpResult } from './envelope';
import { authenticate, type AuthenticatedContext } from './middleware/authenticate';
import { envelopeErrors } from './middleware/envelope-errors';
import { queryOf, sourceIpOf } from './request';

/**
 * The HTTP handlers: each reads its request, calls its use case and answers
 * the envelope. Built from their dependencies so the Lambda entry points, the
 * local server and the tests run the very same code.
 */

const authenticated = (tokens: TokenVerifier) =>
  middy<APIGatewayProxyEventV2, HttpResult, Error, AuthenticatedContext>()
    .use(envelopeErrors())
    .use(authenticate(tokens));

export const createSendPhoneSmsCodeHandler = (deps: SendPhoneSmsCodeDependencies) =>
  middy<APIGatewayProxyEventV2, HttpResult>()
    .use(envelopeErrors())
    .handler(async (event) => {
      const { phone, internationalCode, codeType, userDomain, random, ts, signature } = queryOf(event);
      await sendPhoneSmsCode(
        { phone, internationalCode, codeType, userDomain, random, ts, signature, sourceIp: sourceIpOf(event) },
        deps,
      );
      return ok('SMS verification code sent');
    });

export const createRelationPhoneHandler = (deps: RelationPhoneDependencies & { tokens: TokenVerifier }) =>
  authenticated(deps.tokens).handler(async (event, context) => {
    const { phone, code, internationalCode } = queryOf(event);
    await relationPhone({ uid: context.uid, phone, code, internationalCode }, deps);
    return ok('Phone number linked successfully');
  });

export const createUserInfoHandler = (deps: { users: Users; tokens: TokenVerifier }) =>
  authenticated(deps.tokens).handler(async (_event, context) => ok('Success', await userInfo(context.uid, deps)));
