import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamodb/keys';
import { DUE_INDEX } from '../../functions/adapters/dynamodb/table-definitions';
import { ROUTES, routeKey, routesServedBy } from '../../functions/http/routes';
import { globalUsersTableName } from '../../lib/phone-link-stack';
import { stackName } from '../../lib/stage-config';
import { shows } from '../support/log-match';
import { MULTI_REGION_CONTEXT } from '../cdk/synth';
import { DeployedClient } from './api-client';
import { idsOf } from './cloud-assembly';
import { REFUSED_NUMBER, deploy, type Deployment } from './deployment';
import { deniedRequests, requestsBy, unusedGrants } from './iam';
import type { RecordedCall } from './stand-ins';

/**
 * What deploys, tested as deployed, in the multi-region mode
 * (docs/MULTI-REGION.md): the first region's stack of `-c regions=eu-west-1,
 * eu-west-2 -c witnessRegion=eu-central-1` (the one that creates the MRSC
 * users table), synthesised with bundling as `cdk deploy PhoneLink-prod
 * --exclusively` would ship it, run as deployed.test.ts runs the
 * single-region stack, and its link reconciler fired as its schedule fires it.
 *
 * DynamoDB Local is one region: the global table runs as its replica here,
 * a table of the same shape. What MRSC adds between regions (refusing
 * transactions, replicated write conflicts, isolation) is test/multi-region's.
 */

/**
 * Grants no call of this suite uses, keyed `<function> <action>` (`*` for
 * every function), as in deployed.test.ts. In ordered-writes mode the
 * functions' table access levels hold no transaction rights, so only the
 * log grants are left.
 */
const UNUSED_GRANT_REASONS: Record<string, string> = {
  '* logs:CreateLogStream': 'Lambda itself writes the function log group with the role; the function code never calls CloudWatch Logs',
  '* logs:PutLogEvents': 'Lambda itself writes the function log group with the role; the function code never calls CloudWatch Logs',
};

let deployment: Deployment;
let client: DeployedClient;
const DOMAIN = 'C.DM.5903.1';
const STACK = stackName(MULTI_REGION_CONTEXT.stage);

beforeAll(async () => {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through the deployed project (its globalSetup starts DynamoDB Local)');
  deployment = await deploy(endpoint, { context: MULTI_REGION_CONTEXT, stackName: STACK });
  client = new DeployedClient(deployment, DOMAIN);
}, 180_000);

afterAll(async () => {
  // DEPLOYED_REPORT=1: the calls each function made, as IAM authorises them.
  if (process.env.DEPLOYED_REPORT && deployment) {
    for (const [functionId, fn] of deployment.functions) {
      const counts = new Map<string, number>();
      for (const request of requestsBy(deployment, functionId)) {
        const key = `${request.call} ${request.action.split(':')[1]}@${request.resource.split(':').at(-1)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      console.log(`${fn.name}: ${[...counts].map(([key, n]) => `${n}x ${key}`).join('; ')}`);
      if (process.env.DEPLOYED_REPORT === 'logs') console.log(fn.process.output());
    }
  }
  await deployment?.close();
});

const PHONES = {
  first: '13700237001',
  second: '13700237002',
  adminFirst: '13700237004',
  crashedBeforeCommit: '13700237005',
  crashedAfterCommit: '13700237006',
};

/** The one function of the template of that name (`RelationPhone`, `LinkReconciler` ...). */
const fnNamed = (name: string) => {
  const found = [...deployment.functions.values()].filter((fn) => fn.name === name);
  if (found.length !== 1) throw new Error(`expected one function ${name}, found ${found.length}`);
  return found[0]!;
};

const globalTableId = (): string => {
  const ids = idsOf(deployment.template, 'AWS::DynamoDB::GlobalTable');
  if (ids.length !== 1) throw new Error(`expected one AWS::DynamoDB::GlobalTable, found ${ids.length}`);
  return ids[0]!;
};
const usersTableName = (): string => deployment.tableNames.get(globalTableId())!;

/** One firing of the reconciler's schedule: the report its one target returned. */
async function reconcile(): Promise<unknown> {
  const [schedule] = deployment.schedules;
  const [invocation] = await deployment.fireSchedule(schedule!);
  if (invocation === undefined || 'error' in invocation) {
    throw new Error(`the reconciler failed: ${JSON.stringify(invocation)}\n${fnNamed('LinkReconciler').process.output()}`);
  }
  return invocation.result;
}

/** Time passing, seen from the table: the due item's `dueAt` (and anything tied to it) moved into the past. */
const age = (pk: string, set: Record<string, number>) =>
  deployment.db.send(
    new UpdateCommand({
      TableName: usersTableName(),
      Key: { pk },
      UpdateExpression: `SET ${Object.keys(set).map((name) => `#${name} = :${name}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(set).map((name) => [`#${name}`, name])),
      ExpressionAttributeValues: Object.fromEntries(Object.entries(set).map(([name, value]) => [`:${name}`, value])),
    }),
  );
const TWO_MINUTES_AGO = () => Date.now() - 120_000;

const item = async (pk: string) => (await deployment.db.send(new GetCommand({ TableName: usersTableName(), Key: { pk }, ConsistentRead: true }))).Item;

/** Items still carrying an operation's marker: none once everything settled. */
const pendingItems = async () =>
  (await deployment.db.send(new ScanCommand({ TableName: usersTableName(), FilterExpression: 'attribute_exists(pendingOperation)' }))).Items ?? [];

/** A users-table write of relationPhone on `pk`, as the stand-in saw it. */
const writeOn = (operation: string, pk: string, also: (input: Record<string, unknown>) => boolean = () => true) => (call: RecordedCall) =>
  call.operation === operation &&
  call.input.TableName === usersTableName() &&
  ((call.input.Key ?? call.input.Item) as { pk?: { S?: string } } | undefined)?.pk?.S === pk &&
  also(call.input);

describe(`the multi-region prod stage's first region (${STACK}), as deployed`, () => {
  it('creates the users table from the AWS::DynamoDB::GlobalTable of the template, with its due index and no TTL, and the codes table as a regional table', async () => {
    const properties = deployment.template.Resources[globalTableId()]!.Properties!;
    expect(properties).toMatchObject({ TableName: globalUsersTableName({ stage: 'prod' }), MultiRegionConsistency: 'STRONG' });
    expect(properties.TimeToLiveSpecification).toBeUndefined();

    const { Table } = await deployment.db.send(new DescribeTableCommand({ TableName: usersTableName() }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema }) => ({ IndexName, KeySchema }))).toEqual([
      {
        IndexName: DUE_INDEX.indexName,
        KeySchema: [
          { AttributeName: DUE_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: DUE_INDEX.sortKey, KeyType: 'RANGE' },
        ],
      },
    ]);
    const [codesTable] = idsOf(deployment.template, 'AWS::DynamoDB::Table');
    expect(deployment.template.Resources[codesTable!]!.Properties!.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
  });

  it('starts every function from its bundle, the link-changing ones in ordered-writes mode, all on the global table', async () => {
    const names = [...deployment.functions.values()].map((fn) => fn.name).sort();
    expect(names).toEqual(['Admin', 'DeletePhoneRelation', 'LinkReconciler', 'RelationPhone', 'SendPhoneSmsCode', 'UserInfo']);
    for (const fn of deployment.functions.values()) {
      expect({ name: fn.name, init: await fn.process.initialised }).toEqual({ name: fn.name, init: undefined });
    }
    const modes = Object.fromEntries([...deployment.functions.values()].map((fn) => [fn.name, fn.variables.PHONE_LINKS_MODE]));
    expect(modes).toEqual({
      SendPhoneSmsCode: undefined,
      RelationPhone: 'ordered-writes',
      UserInfo: undefined,
      DeletePhoneRelation: 'ordered-writes',
      Admin: 'ordered-writes',
      LinkReconciler: undefined,
    });
    const onUsersTable = [...deployment.functions.values()].filter((fn) => fn.variables.USERS_TABLE_NAME !== undefined);
    expect(onUsersTable.map((fn) => [fn.name, fn.variables.USERS_TABLE_NAME])).toEqual(
      ['RelationPhone', 'UserInfo', 'DeletePhoneRelation', 'Admin', 'LinkReconciler'].map((name) => [name, usersTableName()]),
    );
  });

  it('runs the reconciler every minute on a schedule, and on no route', () => {
    expect(deployment.schedules).toEqual([{ ruleId: expect.any(String), expression: 'rate(1 minute)', functionIds: [fnNamed('LinkReconciler').id] }]);
    expect(deployment.routes.map((route) => route.functionId)).not.toContain(fnNamed('LinkReconciler').id);
  });

  it('sends, links, reads, moves to a second phone, refuses a taken phone and unlinks, leaving no marker behind', async () => {
    const alice = await client.token('mr-user-1');

    expect(await client.link(alice, PHONES.first, await client.codeFor(PHONES.first, '3'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(alice)).toMatchObject({ code: 200, data: { uid: 'mr-user-1', phone: PHONES.first } });
    expect(await client.link(alice, PHONES.second, await client.codeFor(PHONES.second, '3'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(alice)).toMatchObject({ data: { phone: PHONES.second } });

    // The move released the first phone's claim.
    expect(await item(keys.phoneClaim(`+86${PHONES.first}`))).toBeUndefined();

    expect(await client.unlink(alice, await client.codeFor(PHONES.second, '4'))).toMatchObject({ code: 200 });
    expect(await client.userInfo(alice)).toMatchObject({ data: { phone: null } });
    expect(await item(keys.phoneClaim(`+86${PHONES.second}`))).toBeUndefined();
    expect(await pendingItems()).toEqual([]);
    expect(deployment.login.fetches()).toBeGreaterThan(0);
  });

  it("registers, links and erases a user through the admin routes; the erased user's token then answers 5033", async () => {
    const uid = 'mr-admin-1';
    expect(await client.admin('PUT', uid)).toMatchObject({ code: 200, data: { uid, exists: true, phone: null } });
    expect(await client.admin('PUT', uid, '/phone', { phone: client.secret(PHONES.adminFirst), internationalCode: '86' })).toMatchObject({
      code: 200,
      data: { uid, phone: PHONES.adminFirst, alreadyLinked: false },
    });
    expect(await client.admin('GET', uid)).toMatchObject({ code: 200, data: { uid, exists: true, phone: PHONES.adminFirst } });
    // A phone linked by an operator is taken for everyone else: 5002, and the code is not consumed.
    const other = await client.token('mr-user-2');
    const code = await client.codeFor(PHONES.adminFirst, '3');
    expect(await client.link(other, PHONES.adminFirst, code)).toMatchObject({ code: 5002 });
    expect(await client.link(other, PHONES.adminFirst, code)).toMatchObject({ code: 5002 });
    expect(await client.admin('DELETE', uid)).toMatchObject({ code: 200, data: { uid } });
    expect(await client.admin('GET', uid)).toMatchObject({ code: 200, data: { uid, exists: false, erasedAt: expect.any(String) } });
    expect(await item(keys.phoneClaim(`+86${PHONES.adminFirst}`))).toBeUndefined();
    expect(await client.userInfo(await client.token(uid))).toMatchObject({ code: 5033 });
    expect([...deployment.api.iamAuthorized].sort()).toEqual(routesServedBy('admin').map((name) => routeKey(ROUTES[name])).sort());
    expect(await pendingItems()).toEqual([]);
  });

  it('leaves a link crashed before its commit pending, which the reconciler rolls back once its lease is over; the code still links', async () => {
    const relationPhone = fnNamed('RelationPhone');
    const access = await client.token('mr-crash-1');
    const claim = keys.phoneClaim(`+86${PHONES.crashedBeforeCommit}`);
    const code = await client.codeFor(PHONES.crashedBeforeCommit, '3');

    // The function dies as it marks the user: the claim is written, pending; nothing else is.
    const crashed = deployment.standIns.interruptNext(relationPhone.id, writeOn('UpdateItem', keys.user('mr-crash-1')), () => relationPhone.process.crash());
    expect(await deployment.api.request(client.linkRequest(access, PHONES.crashedBeforeCommit, code))).toMatchObject({ status: 500 });
    await crashed;
    expect(await item(claim)).toMatchObject({ uid: 'mr-crash-1', pendingAction: 'claim' });

    // Within its lease the operation may still be running: left alone.
    expect(await reconcile()).toEqual({ finished: 0, rolledBack: 0, tombstonesRemoved: 0, failed: 0, complete: true });
    expect(await item(claim)).toMatchObject({ pendingAction: 'claim' });

    await age(claim, { dueAt: TWO_MINUTES_AGO() });
    expect(await reconcile()).toEqual({ finished: 0, rolledBack: 1, tombstonesRemoved: 0, failed: 0, complete: true });
    expect(await item(claim)).toBeUndefined();
    expect(await client.userInfo(access)).toMatchObject({ data: { phone: null } });

    // The crash came before the code was consumed: the same code links, in a fresh environment.
    expect(await client.link(access, PHONES.crashedBeforeCommit, code)).toMatchObject({ code: 200 });
    expect(relationPhone.process.environments).toBe(2);
    expect(await pendingItems()).toEqual([]);
  });

  it('leaves a link crashed after its commit with its claim unconfirmed, which the reconciler finishes', async () => {
    const relationPhone = fnNamed('RelationPhone');
    const access = await client.token('mr-crash-2');
    const claim = keys.phoneClaim(`+86${PHONES.crashedAfterCommit}`);
    const code = await client.codeFor(PHONES.crashedAfterCommit, '3');

    // The user is committed; the function dies as it confirms the claim.
    const crashed = deployment.standIns.interruptNext(relationPhone.id, writeOn('UpdateItem', claim), () => relationPhone.process.crash());
    expect(await deployment.api.request(client.linkRequest(access, PHONES.crashedAfterCommit, code))).toMatchObject({ status: 500 });
    await crashed;
    expect(await client.userInfo(access)).toMatchObject({ data: { phone: PHONES.crashedAfterCommit } });
    expect(await item(claim)).toMatchObject({ pendingAction: 'claim' });

    await age(claim, { dueAt: TWO_MINUTES_AGO() });
    expect(await reconcile()).toEqual({ finished: 1, rolledBack: 0, tombstonesRemoved: 0, failed: 0, complete: true });
    expect(await item(claim)).toEqual({ pk: claim, uid: 'mr-crash-2', linkedAt: expect.any(String), lastOperation: expect.any(String) });
    expect(await pendingItems()).toEqual([]);
  });

  it("removes an erased user's tombstone once its retention passed (no TTL on the global table)", async () => {
    const tombstone = keys.user('mr-admin-1');
    expect(await item(tombstone)).toMatchObject({ erasedAt: expect.any(String) });
    const past = TWO_MINUTES_AGO();
    await age(tombstone, { retainUntil: past, dueAt: past });
    expect(await reconcile()).toEqual({ finished: 0, rolledBack: 0, tombstonesRemoved: 1, failed: 0, complete: true });
    expect(await item(tombstone)).toBeUndefined();
  });

  it('answers 5059 when SNS refuses the number, taking the send back', async () => {
    expect(await client.sendCode(client.secret(REFUSED_NUMBER.national), '3')).toMatchObject({ code: 5059 });
  });

  it('logs no phone number, code, token or secret', () => {
    const leaks = [...deployment.functions.values()].flatMap((fn) =>
      [...client.sensitive].filter((value) => fn.process.output().split('\n').some((line) => shows(line, value))).map((value) => `${fn.name}: ${value}`),
    );
    expect(leaks).toEqual([]);
  });
});

describe('IAM in the multi-region stack, simulated on the calls the functions made', () => {
  it("allows every call, the reconciler's Query of the due index included, by the policies of the function role in the template", async () => {
    const queries = requestsBy(deployment, fnNamed('LinkReconciler').id).filter((request) => request.action === 'dynamodb:Query');
    expect(new Set(queries.map((request) => request.resource))).toEqual(new Set([`${deployment.tableArn(usersTableName())}/index/${DUE_INDEX.indexName}`]));
    expect(await deniedRequests(deployment)).toEqual([]);
  });

  it('grants no action that no call used, unless it has a reason here', () => {
    const { unexplained, stale } = unusedGrants(deployment, UNUSED_GRANT_REASONS);
    expect(unexplained).toEqual([]);
    // A reason for a grant that is used, or no longer granted, goes.
    expect(stale).toEqual([]);
  });
});
