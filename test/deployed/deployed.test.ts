import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamodb/keys';
import { ROUTE_NAMES, ROUTES, routeKey, routesServedBy } from '../../functions/http/routes';
import { shows } from '../support/log-match';
import { DeployedClient } from './api-client';
import { idsOf } from './cloud-assembly';
import { REFUSED_NUMBER, deploy, type Deployment } from './deployment';
import { grantedActions, iamRequestsOf, identityPoliciesOf, simulate, type IamRequest } from './iam';

/**
 * What deploys, tested as deployed (issue 13): the prod stage synthesised
 * with bundling, each function's bundle run in a process of its own with
 * exactly the environment the template gives it, behind the template's own
 * routes, against stand-ins for DynamoDB, SNS, Secrets Manager and the
 * login service's key set. Every AWS call is recorded and simulated against
 * the function role's policies from the template.
 */

/**
 * Grants no call of this suite uses, each with its reason, keyed
 * `<function> <action>` (`*` for every function). A grant used, or gone,
 * must leave this list too. Each function gets a table access level of
 * lib/constructs/api-function.ts (TABLE_ACTIONS), not an action list of its
 * own: what a level holds beyond a function's calls is explained here.
 */
const UNUSED_GRANT_REASONS: Record<string, string> = {
  '* logs:CreateLogStream': 'Lambda itself writes the function log group with the role; the function code never calls CloudWatch Logs',
  '* logs:PutLogEvents': 'Lambda itself writes the function log group with the role; the function code never calls CloudWatch Logs',
  'DeletePhoneRelation dynamodb:PutItem': 'ITEM_RW, the level the admin function needs too: an unlink updates the code and the user and deletes (or checks) the claim; it never puts an item',
};

let deployment: Deployment;
let client: DeployedClient;
const DOMAIN = 'C.DM.5903.1';
const PHONES = { first: '13700137001', second: '13700137002', third: '13700137003', adminFirst: '13700137004', adminSecond: '13700137005' };

beforeAll(async () => {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through the deployed project (its globalSetup starts DynamoDB Local)');
  deployment = await deploy(endpoint);
  client = new DeployedClient(deployment, DOMAIN);
  Object.values(PHONES).forEach((phone) => client.secret(phone));
}, 180_000);

afterAll(async () => {
  // DEPLOYED_REPORT=1: the calls each function made, as IAM authorises them.
  if (process.env.DEPLOYED_REPORT && deployment) {
    for (const [functionId, fn] of deployment.functions) {
      const counts = new Map<string, number>();
      for (const recorded of deployment.standIns.calls.filter((c) => c.functionId === functionId)) {
        const key = `${recorded.operation}[${iamRequestsOf(recorded, deployment.tableArn).map((r) => `${r.action.split(':')[1]}@${r.resource.split(/[/:]/).at(-1)}`).join(',')}]`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      console.log(`${fn.name}: ${[...counts].map(([key, n]) => `${n}x ${key}`).join('; ')}`);
      if (process.env.DEPLOYED_REPORT === 'logs') console.log(fn.process.output());
    }
  }
  await deployment?.close();
});

/** Drift behind the functions' backs: the claim item of a phone disappears (a restore, a hand edit). */
const deleteClaim = (phone: string) =>
  deployment.db.send(new DeleteCommand({ TableName: deployment.tableNames.get(usersTableId())!, Key: { pk: keys.phoneClaim(`+86${phone}`) } }));
const usersTableId = () => {
  const [id] = idsOf(deployment.template, 'AWS::DynamoDB::Table').filter((table) => table.startsWith('UsersTable'));
  if (id === undefined) throw new Error('no users table in the template');
  return id;
};

describe('the prod stage, as deployed', () => {
  it('starts every function of the template from its bundle, with the environment the template gives it', async () => {
    const ids = idsOf(deployment.template, 'AWS::Lambda::Function');
    expect(ids).toHaveLength(5);
    for (const id of ids) {
      const fn = deployment.functions.get(id)!;
      expect({ name: fn.name, init: await fn.process.initialised }).toEqual({ name: fn.name, init: undefined });
    }
  });

  it('routes each contract route to its own function with no authorization, and the admin routes to one function behind IAM', () => {
    const byKey = new Map(deployment.routes.map((route) => [route.routeKey, route]));
    const contract = ROUTE_NAMES.filter((name) => ROUTES[name].authorization !== 'iam').map((name) => routeKey(ROUTES[name]));
    const adminKeys = routesServedBy('admin').map((name) => routeKey(ROUTES[name]));
    expect([...byKey.keys()].sort()).toEqual([...contract, ...adminKeys].sort());
    expect(contract.map((key) => byKey.get(key)!.authorizationType)).toEqual(contract.map(() => 'NONE'));
    expect(new Set(contract.map((key) => byKey.get(key)!.functionId)).size).toBe(contract.length);
    expect(adminKeys.map((key) => byKey.get(key)!.authorizationType)).toEqual(adminKeys.map(() => 'AWS_IAM'));
    expect(new Set(adminKeys.map((key) => byKey.get(key)!.functionId)).size).toBe(1);
  });

  it('sends a code by SMS, links the phone with it, reads it back and unlinks it', async () => {
    const uid = 'deployed-user-1';
    const access = await client.token(uid);

    expect(await client.link(access, PHONES.first, await client.codeFor(PHONES.first, '3'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(access)).toMatchObject({ code: 200, data: { uid, phone: PHONES.first, internationalCode: '86' } });
    expect(await client.unlink(access, await client.codeFor(PHONES.first, '4'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(access)).toMatchObject({ code: 200, data: { uid, phone: null } });
    // The key set came from the URL the template gave the functions, over HTTPS.
    expect(deployment.login.fetches()).toBeGreaterThan(0);
  });

  it("links and unlinks through drift (a user's claim gone missing), repairing it in the same transaction", async () => {
    const access = await client.token('deployed-user-2');
    expect(await client.link(access, PHONES.second, await client.codeFor(PHONES.second, '3'))).toMatchObject({ code: 200 });

    await deleteClaim(PHONES.second);
    expect(await client.link(access, PHONES.third, await client.codeFor(PHONES.third, '3'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(access)).toMatchObject({ data: { phone: PHONES.third } });

    const unlinkCode = await client.codeFor(PHONES.third, '4');
    await deleteClaim(PHONES.third);
    expect(await client.unlink(access, unlinkCode)).toMatchObject({ code: 200 });
    expect(await client.userInfo(access)).toMatchObject({ data: { phone: null } });
  });

  it("registers, reads, links and erases a user through the admin routes; the erased user's token then answers 5033", async () => {
    const uid = 'deployed-admin-1';
    expect(await client.admin('PUT', uid)).toMatchObject({ code: 200, data: { uid, exists: true, phone: null } });
    expect(await client.admin('GET', uid)).toMatchObject({ code: 200, data: { uid, exists: true } });
    expect(await client.admin('PUT', uid, '/phone', { phone: PHONES.adminFirst, internationalCode: '86' })).toMatchObject({
      code: 200,
      data: { uid, phone: PHONES.adminFirst, alreadyLinked: false },
    });
    // Drift again, met by the admin function: a link elsewhere, then the erasure, both repair it.
    await deleteClaim(PHONES.adminFirst);
    expect(await client.admin('PUT', uid, '/phone', { phone: PHONES.adminSecond, internationalCode: '86' })).toMatchObject({ code: 200 });
    await deleteClaim(PHONES.adminSecond);
    expect(await client.admin('DELETE', uid)).toMatchObject({ code: 200, data: { uid } });
    expect(await client.admin('GET', uid)).toMatchObject({ code: 200, data: { uid, exists: false, erasedAt: expect.any(String) } });

    expect(await client.userInfo(await client.token(uid))).toMatchObject({ code: 5033 });
    expect([...deployment.api.iamAuthorized].sort()).toEqual(routesServedBy('admin').map((name) => routeKey(ROUTES[name])).sort());
  });

  it('answers 5059 when SNS refuses the number', async () => {
    client.secret(REFUSED_NUMBER.national);
    expect(await client.sendCode(REFUSED_NUMBER.national, '3')).toMatchObject({ code: 5059 });
  });

  it('logs no phone number, code, token or secret', () => {
    const leaks = [...deployment.functions.values()].flatMap((fn) =>
      [...client.sensitive].filter((value) => fn.process.output().split('\n').some((line) => shows(line, value))).map((value) => `${fn.name}: ${value}`),
    );
    expect(leaks).toEqual([]);
  });
});

describe('IAM, simulated on the calls the functions made', () => {
  const requestsBy = (functionId: string): Array<IamRequest & { call: string }> =>
    deployment.standIns.calls
      .filter((recorded) => recorded.functionId === functionId)
      .flatMap((recorded) => iamRequestsOf(recorded, deployment.tableArn).map((request) => ({ ...request, call: `${recorded.service}:${recorded.operation}` })));

  it('allows every call, by the policies of the function role in the template', async () => {
    const denied: string[] = [];
    for (const functionId of deployment.functions.keys()) {
      const { roleArn, policies } = identityPoliciesOf(deployment.template, deployment.resolver, functionId);
      const requests = requestsBy(functionId);
      expect(requests.length).toBeGreaterThan(0);
      const unique = new Map(requests.map((request) => [`${request.action} ${request.resource}`, request]));
      for (const request of unique.values()) {
        const verdict = await simulate(roleArn, policies, request);
        if (!verdict.allowed) denied.push(`${functionId}: ${request.action} on ${request.resource} (in ${request.call})\n${verdict.explanation}`);
      }
    }
    expect(denied).toEqual([]);
  });

  it('grants no action that no call used, unless it has a reason here', () => {
    const unexplained: string[] = [];
    const stale = new Set(Object.keys(UNUSED_GRANT_REASONS));
    for (const [functionId, fn] of deployment.functions) {
      const { policies } = identityPoliciesOf(deployment.template, deployment.resolver, functionId);
      const used = new Set(requestsBy(functionId).map((request) => request.action));
      for (const action of grantedActions(policies)) {
        const reason = [`${fn.name} ${action}`, `* ${action}`].find((key) => key in UNUSED_GRANT_REASONS);
        if (used.has(action)) continue;
        if (reason === undefined) unexplained.push(`${fn.name} ${action}`);
        else stale.delete(reason);
      }
    }
    expect(unexplained).toEqual([]);
    // A reason for a grant that is used, or no longer granted, goes.
    expect([...stale]).toEqual([]);
  });
});
