import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { count, logger, maskPhone, type MetricName } from '../observability';
import { RESPONSE_MARGIN_MS } from '../request-budget';
import type { UserProvisioning } from '../domain/user-provisioning';
import type { TokenVerifier, Users } from '../ports';
import { eraseUser, getUser, linkPhoneAsAdmin, registerUser, type AdminDependencies } from '../use-cases/admin-users';
import { deletePhoneRelation, type DeletePhoneRelationDependencies } from '../use-cases/delete-phone-relation';
import { relationPhone, type RelationPhoneDependencies } from '../use-cases/relation-phone';
import { sendPhoneSmsCode, type SendPhoneSmsCodeDependencies } from '../use-cases/send-phone-sms-code';
import { userInfo } from '../use-cases/user-info';
import { ok, type HttpResult } from './envelope';
import { localeOf } from './locale';
import { authenticate, type AuthenticatedContext } from './middleware/authenticate';
import { envelopeErrors } from './middleware/envelope-errors';
import { outcomeMetrics } from './middleware/outcome-metrics';
import { requestDeadline, type DeadlineContext } from './middleware/request-deadline';
import { requestParameters, type ParametersContext } from './middleware/request-parameters';
import { routeNamed, type RouteOf } from './routes';
import { sourceIpOf } from './request';

/**
 * The HTTP handlers: each takes its request's parameters (query and body, read
 * by the requestParameters middleware), calls its use case and answers the
 * envelope. Built from their dependencies so the Lambda entry points, the
 * local server and the tests run the very same code. Dependencies come
 * deferred: in the cloud each request asks for its secrets, which load
 * during the cold start and come from a cache after that.
 */
export type Deferred<T> = () => Promise<T>;

/** What API Gateway calls: an event and a Lambda context in, the HTTP result out. */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult>;

/** Dependencies that are ready now (local server, tests). */
export const ready =
  <T>(value: T): Deferred<T> =>
  () =>
    Promise.resolve(value);

/**
 * A handler still running RESPONSE_MARGIN_MS before the function's timeout
 * (a cold secret or key set, calls failing as slowly as they can) is cut
 * off by middy with a TimeoutError, which the envelope answers as a 500.
 * With transactions every write is atomic, so nothing is left half done; in
 * ordered-writes mode the operation stops at its next step, past the same
 * deadline, and undoes itself (or the reconciler does). Waiting for a turn
 * stops earlier, with room for one more attempt (request-deadline.ts).
 */
const UNTIL_THE_MARGIN = { timeoutEarlyInMillis: RESPONSE_MARGIN_MS };

// Middlewares first, `.handler()` last; onError runs in reverse order, so the
// envelope is the last word on any error.
const publicEndpoint = (onSuccess?: MetricName) =>
  middy<APIGatewayProxyEventV2, HttpResult>(UNTIL_THE_MARGIN)
    .use(requestDeadline())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(envelopeErrors())
    .use(outcomeMetrics(onSuccess))
    .use(requestParameters());

// The token is checked before the body is read: a request without one answers 5106 whatever it carries.
const authenticatedEndpoint = (tokens: TokenVerifier, onSuccess?: MetricName) =>
  middy<APIGatewayProxyEventV2, HttpResult, Error, AuthenticatedContext>(UNTIL_THE_MARGIN)
    .use(requestDeadline())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(envelopeErrors())
    .use(outcomeMetrics(onSuccess))
    .use(authenticate(tokens))
    .use(requestParameters());

export const createSendPhoneSmsCodeHandler = (deps: Deferred<SendPhoneSmsCodeDependencies>) =>
  publicEndpoint('CodesSent').handler(async (event, context) => {
    const { phone, internationalCode, codeType, userDomain, random, ts, signature } = context.parameters;
    const locale = localeOf(event.headers);
    const sent = await sendPhoneSmsCode(
      { phone, internationalCode, codeType, userDomain, random, ts, signature, sourceIp: sourceIpOf(event), locale, deadline: context.deadline },
      await deps(),
    );
    logger.info('SMS code sent', { phone: maskPhone(sent.phone.e164), codeType });
    return ok(locale, 'codeSent');
  });

export const createRelationPhoneHandler = (tokens: TokenVerifier, deps: Deferred<RelationPhoneDependencies>) =>
  authenticatedEndpoint(tokens, 'PhonesLinked').handler(async (event, context) => {
    const { phone, code, internationalCode } = context.parameters;
    const linked = await relationPhone({ uid: context.uid, phone, code, internationalCode, deadline: context.deadline }, await deps());
    logger.info('Phone linked', { uid: context.uid, phone: maskPhone(linked.phone.e164) });
    return ok(localeOf(event.headers), 'linked');
  });

export const createDeletePhoneRelationHandler = (tokens: TokenVerifier, deps: Deferred<DeletePhoneRelationDependencies>) =>
  authenticatedEndpoint(tokens, 'PhonesUnlinked').handler(async (event, context) => {
    const unlinked = await deletePhoneRelation({ uid: context.uid, code: context.parameters.code, deadline: context.deadline }, await deps());
    logger.info('Phone unlinked', { uid: context.uid, phone: maskPhone(unlinked.phone.e164) });
    return ok(localeOf(event.headers), 'unlinked');
  });

export const createUserInfoHandler = (tokens: TokenVerifier, deps: Deferred<{ users: Pick<Users, 'find'>; provisioning: UserProvisioning }>) =>
  authenticatedEndpoint(tokens).handler(async (event, context) =>
    ok(localeOf(event.headers), 'success', await userInfo(context.uid, await deps())),
  );

type AdminRoute = (
  event: APIGatewayProxyEventV2,
  context: DeadlineContext & ParametersContext,
  deps: Deferred<AdminDependencies>,
) => Promise<HttpResult>;

/** What each admin route does: the compiler asks for one per admin route of the route table. */
const ADMIN_ROUTES: { readonly [R in RouteOf<'admin'>]: AdminRoute } = {
  adminGetUser: async (event, _context, deps) => ok(localeOf(event.headers), 'success', await getUser(uidOf(event), await deps())),
  adminRegisterUser: async (event, _context, deps) => ok(localeOf(event.headers), 'success', await registerUser(uidOf(event), await deps())),
  adminLinkPhone: async (event, context, deps) => {
    const { phone, internationalCode } = context.parameters;
    const linked = await linkPhoneAsAdmin({ uid: uidOf(event), phone, internationalCode, deadline: context.deadline }, await deps());
    if (!linked.alreadyLinked) count('PhonesLinkedByAdmin');
    logger.info('Phone linked by admin', { uid: linked.uid, alreadyLinked: linked.alreadyLinked });
    return ok(localeOf(event.headers), 'linked', linked);
  },
  adminEraseUser: async (event, context, deps) => {
    const erased = await eraseUser(uidOf(event), await deps(), context.deadline);
    count('UsersErased');
    logger.info('User erased', { uid: erased.uid });
    return ok(localeOf(event.headers), 'success', erased);
  },
};

const isAdminRoute = (name: string | undefined): name is RouteOf<'admin'> => name !== undefined && Object.hasOwn(ADMIN_ROUTES, name);

/**
 * Every admin route, told apart by its route key. In the cloud only
 * IAM-authorized callers reach it (API Gateway checks the SigV4 signature),
 * so it authenticates nothing itself.
 */
export const createAdminHandler = (deps: Deferred<AdminDependencies>) =>
  publicEndpoint().handler(async (event, context) => {
    const route = routeNamed(event.routeKey);
    if (!isAdminRoute(route)) throw new Error(`No admin route ${event.routeKey}`);
    return ADMIN_ROUTES[route](event, context, deps);
  });

const uidOf = (event: APIGatewayProxyEventV2): string | undefined => pathParameter(event.pathParameters?.uid);

/** A path parameter, percent-decoded once whether or not the caller's encoding reached us; undefined if malformed. */
function pathParameter(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
