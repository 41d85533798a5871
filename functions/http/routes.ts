/**
 * The API's functions and routes, written once. Pure data (nothing here may
 * import a handler or middy): the stack deploys a function per entry of
 * FUNCTIONS and a route per entry of ROUTES, the local server matches
 * requests against ROUTES, and the wiring, the bench, the docs checks and
 * the tests take their names and paths from here.
 */

/** How a route's caller proves who it is. */
export type Authorization =
  /** The app signs the parameters with its user domain's secret (sendPhoneSmsCode). */
  | 'app-signature'
  /** A bearer token of the platform's login service, checked in the function. */
  | 'user-token'
  /** AWS SigV4, checked by API Gateway before any function runs: the admin interface. */
  | 'iam';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface FunctionDefinition {
  /** Its handler module in functions/entry/. */
  readonly entry: string;
  /** What it is for, when its routes do not say it (it serves several, or none). */
  readonly purpose?: string;
  /** Run on a schedule, every so many minutes, instead of by routes. */
  readonly everyMinutes?: number;
  /** Deployed only where phone links are written this way (a function that exists for that mode alone). */
  readonly onlyWithLinks?: 'ordered-writes';
}

export const FUNCTIONS = {
  sendPhoneSmsCode: { entry: 'send-phone-sms-code.ts' },
  relationPhone: { entry: 'relation-phone.ts' },
  userInfo: { entry: 'user-info.ts' },
  deletePhoneRelation: { entry: 'delete-phone-relation.ts' },
  admin: { entry: 'admin.ts', purpose: 'admin interface' },
  // Finishes or rolls back what a crash left half-done, where links are written step by step.
  linkReconciler: {
    entry: 'reconcile-links.ts',
    purpose: 'finishes or rolls back half-done links',
    everyMinutes: 1,
    onlyWithLinks: 'ordered-writes',
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** With `{name}` for a path parameter: one whole path segment, as API Gateway matches it. */
  readonly path: string;
  /** The function that serves it. */
  readonly function: FunctionName;
  readonly authorization: Authorization;
}

/**
 * Every route the API serves, named by its operationId in docs/openapi.yaml
 * (the contract's four, docs/API.md; the admin interface's). Nothing under
 * /_local ever deploys: those routes belong to the local server alone.
 */
export const ROUTES = {
  sendPhoneSmsCode: { method: 'POST', path: '/v2/sms/enduserapi/v2/sendPhoneSmsCode', function: 'sendPhoneSmsCode', authorization: 'app-signature' },
  relationPhone: { method: 'POST', path: '/v2/enduser/enduserapi/relationPhone', function: 'relationPhone', authorization: 'user-token' },
  userInfo: { method: 'GET', path: '/v2/enduser/enduserapi/userInfo', function: 'userInfo', authorization: 'user-token' },
  deletePhoneRelation: { method: 'DELETE', path: '/v2/enduser/enduserapi/deletePhoneRelation', function: 'deletePhoneRelation', authorization: 'user-token' },
  adminRegisterUser: { method: 'PUT', path: '/admin/v1/users/{uid}', function: 'admin', authorization: 'iam' },
  adminGetUser: { method: 'GET', path: '/admin/v1/users/{uid}', function: 'admin', authorization: 'iam' },
  adminLinkPhone: { method: 'PUT', path: '/admin/v1/users/{uid}/phone', function: 'admin', authorization: 'iam' },
  adminEraseUser: { method: 'DELETE', path: '/admin/v1/users/{uid}', function: 'admin', authorization: 'iam' },
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof ROUTES;
export type Route = (typeof ROUTES)[RouteName];

/** The functions that serve routes: each needs an HTTP handler. */
export type HttpFunctionName = Route['function'];

/** The routes `F` serves. */
export type RouteOf<F extends FunctionName> = { [R in RouteName]: (typeof ROUTES)[R]['function'] extends F ? R : never }[RouteName];

// Pure: a bundle that does not use them leaves them out.
export const ROUTE_NAMES = /* @__PURE__ */ Object.keys(ROUTES) as RouteName[];
export const FUNCTION_NAMES = /* @__PURE__ */ Object.keys(FUNCTIONS) as FunctionName[];
export const HTTP_FUNCTION_NAMES = /* @__PURE__ */ Object.values(ROUTES)
  .map((route) => route.function)
  .filter((name, at, names) => names.indexOf(name) === at) as HttpFunctionName[];

/** `POST /v2/enduser/enduserapi/relationPhone`, as API Gateway names a route (event.routeKey). */
export const routeKey = (route: Pick<RouteDefinition, 'method' | 'path'>): string => `${route.method} ${route.path}`;

export const routesServedBy = <F extends FunctionName>(name: F): RouteOf<F>[] =>
  ROUTE_NAMES.filter((route) => ROUTES[route].function === name) as RouteOf<F>[];

let byRouteKey: ReadonlyMap<string, RouteName> | undefined;

/** The route API Gateway matched, by the route key it hands the function. */
export const routeNamed = (key: string): RouteName | undefined =>
  (byRouteKey ??= new Map(ROUTE_NAMES.map((name) => [routeKey(ROUTES[name]), name]))).get(key);

/** `/admin/v1/users/{uid}/phone` with `{ uid: 'a b' }` -> `/admin/v1/users/a%20b/phone`, as a client sends it. */
export function pathTo(route: Pick<RouteDefinition, 'path'>, parameters: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new Error(`${route.path} needs its ${name}`);
    return encodeURIComponent(value);
  });
}

export interface MatchedRoute<N extends string = RouteName> {
  readonly name: N;
  /** Still percent-encoded, as API Gateway hands them over. */
  readonly pathParameters: Readonly<Record<string, string>> | undefined;
}

/**
 * Finds the route of a request as API Gateway does: the method exactly, and
 * the path segment by segment, a `{parameter}` taking one whole non-empty
 * segment. Where several routes match, the most specific one: at the first
 * segment where they differ, a literal beats a parameter. Undefined: no
 * route matches, a 404.
 */
export function createRouteMatcher<N extends string>(
  routes: Readonly<Record<N, Pick<RouteDefinition, 'method' | 'path'>>>,
): (method: string, path: string) => MatchedRoute<N> | undefined {
  const compiled = (Object.keys(routes) as N[]).map((name) => {
    const segments = routes[name].path.split('/');
    const parameters = segments.map((segment) => /^\{([^}]+)\}$/.exec(segment)?.[1]);
    return { name, method: routes[name].method, segments, parameters };
  });
  // Negative when `a` is the more specific: a literal where `b` has a parameter, at the first segment where they differ.
  const specificity = (a: (typeof compiled)[number], b: (typeof compiled)[number]): number => {
    for (let at = 0; at < a.parameters.length; at++) {
      const aLiteral = a.parameters[at] === undefined;
      if (aLiteral !== (b.parameters[at] === undefined)) return aLiteral ? -1 : 1;
    }
    return 0;
  };
  return (method, path) => {
    const requested = path.split('/');
    const matches = compiled.filter(
      (route) =>
        route.method === method &&
        route.segments.length === requested.length &&
        route.segments.every((segment, at) => (route.parameters[at] === undefined ? segment === requested[at] : requested[at] !== '')),
    );
    const [best] = matches.sort(specificity);
    if (best === undefined) return undefined;
    const pathParameters: Record<string, string> = {};
    best.parameters.forEach((name, at) => {
      if (name !== undefined) pathParameters[name] = requested[at] as string;
    });
    return { name: best.name, pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined };
  };
}

let matchApiRoute: ReturnType<typeof createRouteMatcher<RouteName>> | undefined;

/** The API's route a request is for (createRouteMatcher over ROUTES). */
export const matchRoute = (method: string, path: string): MatchedRoute | undefined => (matchApiRoute ??= createRouteMatcher(ROUTES))(method, path);
