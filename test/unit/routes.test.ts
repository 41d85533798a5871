import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createRouteMatcher,
  FUNCTION_NAMES,
  FUNCTIONS,
  HTTP_FUNCTION_NAMES,
  matchRoute,
  pathTo,
  ROUTE_NAMES,
  ROUTES,
  routeKey,
  routeNamed,
  routesServedBy,
  type FunctionDefinition,
} from '../../functions/http/routes';

const ENTRY_DIR = path.join(__dirname, '..', '..', 'functions', 'entry');

describe('the route table', () => {
  it('names a Lambda entry for each function, and every entry module is one of its functions', () => {
    const entries = readdirSync(ENTRY_DIR).filter((file) => /^export const handler\b/m.test(readFileSync(path.join(ENTRY_DIR, file), 'utf8')));
    expect(FUNCTION_NAMES.map((name) => FUNCTIONS[name].entry).sort()).toEqual(entries.sort());
  });

  it('gives every function a way to be called: its routes, or a schedule', () => {
    for (const name of FUNCTION_NAMES) {
      const { everyMinutes } = FUNCTIONS[name] as FunctionDefinition;
      expect({ name, called: routesServedBy(name).length > 0 || everyMinutes !== undefined }).toEqual({ name, called: true });
    }
    expect([...HTTP_FUNCTION_NAMES].sort()).toEqual(FUNCTION_NAMES.filter((name) => routesServedBy(name).length > 0).sort());
  });

  it('has one route per method and path, and finds each by the route key API Gateway hands over', () => {
    const keys = ROUTE_NAMES.map((name) => routeKey(ROUTES[name]));
    expect(new Set(keys).size).toBe(keys.length);
    for (const name of ROUTE_NAMES) expect(routeNamed(routeKey(ROUTES[name]))).toBe(name);
    expect(routeNamed('GET /admin/v1/users/{uid}/phone')).toBeUndefined();
  });

  it('authorizes with IAM exactly the admin function\'s routes', () => {
    expect(ROUTE_NAMES.filter((name) => ROUTES[name].authorization === 'iam')).toEqual(routesServedBy('admin'));
  });
});

describe('matching a request to a route, as API Gateway does', () => {
  it('finds each route by a request to it, its path parameters still percent-encoded', () => {
    for (const name of ROUTE_NAMES) {
      const route = ROUTES[name];
      expect(matchRoute(route.method, pathTo(route, { uid: 'a b@c' }))).toEqual({
        name,
        pathParameters: route.path.includes('{uid}') ? { uid: 'a%20b%40c' } : undefined,
      });
    }
  });

  it.each([
    ['another method', 'POST', '/admin/v1/users/abc'],
    ['an empty parameter', 'GET', '/admin/v1/users/'],
    ['a segment short', 'GET', '/admin/v1/users'],
    ['a segment more', 'GET', '/admin/v1/users/a/b'],
    ['a trailing slash', 'GET', '/v2/enduser/enduserapi/userInfo/'],
    ['another case', 'GET', '/v2/enduser/enduserapi/userinfo'],
    ['a method on a route of another', 'GET', '/admin/v1/users/abc/phone'],
  ])('no route for %s (%s %s)', (_case, method, requested) => {
    expect(matchRoute(method, requested)).toBeUndefined();
  });

  it('prefers a literal segment to a parameter, wherever they differ first', () => {
    const match = createRouteMatcher({
      anyUser: { method: 'GET', path: '/users/{uid}' },
      me: { method: 'GET', path: '/users/me' },
      anyPhone: { method: 'GET', path: '/users/{uid}/phone' },
      myThing: { method: 'GET', path: '/users/me/{thing}' },
    });
    expect(match('GET', '/users/me')).toEqual({ name: 'me', pathParameters: undefined });
    expect(match('GET', '/users/you')).toEqual({ name: 'anyUser', pathParameters: { uid: 'you' } });
    expect(match('GET', '/users/me/phone')).toEqual({ name: 'myThing', pathParameters: { thing: 'phone' } });
    expect(match('GET', '/users/you/phone')).toEqual({ name: 'anyPhone', pathParameters: { uid: 'you' } });
  });

  it('builds a request path from a route, each parameter percent-encoded, and refuses one left out', () => {
    expect(pathTo(ROUTES.adminLinkPhone, { uid: 'a/b c' })).toBe('/admin/v1/users/a%2Fb%20c/phone');
    expect(pathTo(ROUTES.userInfo)).toBe(ROUTES.userInfo.path);
    expect(() => pathTo(ROUTES.adminGetUser)).toThrow(/needs its uid/);
  });
});
