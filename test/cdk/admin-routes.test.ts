import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_TIMEOUT_MS } from '../../functions/request-budget';
import { ROUTE_NAMES, ROUTES, routeKey } from '../../functions/http/routes';
import { alarmMetric, environmentOf, functionBehind, PROD_CONTEXT, statementsOf, synthesize, tableIds } from './synth';

/** The admin interface of docs/API.md, written out here so that a change in the stack shows. */
const ADMIN = ['PUT /admin/v1/users/{uid}', 'GET /admin/v1/users/{uid}', 'PUT /admin/v1/users/{uid}/phone', 'DELETE /admin/v1/users/{uid}'];
const CONTRACT = ROUTE_NAMES.filter((name) => ROUTES[name].authorization !== 'iam').map((name) => routeKey(ROUTES[name]));

let prod: Template;

beforeAll(() => {
  prod = synthesize(PROD_CONTEXT).template;
});

const routes = (template: Template) => Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties);
const adminFunctionId = (template: Template) => functionBehind(template, ADMIN[0]!).id;

const managedPolicies = (template: Template) => Object.entries(template.findResources('AWS::IAM::ManagedPolicy'));

/**
 * An ARN in the template with its references filled in, as IAM would see it
 * in an account: `{ Fn::Join: ['', [...]] }` with `{ Ref }` parts.
 */
const SAMPLE = { partition: 'aws', region: 'eu-west-1', account: '123456789012', apiId: 'a1b2c3d4e5' };
function sampleArn(value: unknown, apiLogicalId: string): string {
  const parts = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const refs: Record<string, string> = {
    'AWS::Partition': SAMPLE.partition,
    'AWS::Region': SAMPLE.region,
    'AWS::AccountId': SAMPLE.account,
    [apiLogicalId]: SAMPLE.apiId,
  };
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === undefined || refs[ref] === undefined) throw new Error(`unexpected part ${JSON.stringify(part)}`);
      return refs[ref];
    })
    .join('');
}

/** IAM's matching of a Resource: `*` is any run of characters (`/` included), `?` any one. */
const iamMatches = (pattern: string, arn: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(arn);

/** The ARN API Gateway checks for a request to a route, with a uid of the widest allowed shape. */
const requestArn = (key: string, uid = 'user.1:a@b-c_D') => {
  const [method, path] = key.split(' ') as [string, string];
  return `arn:${SAMPLE.partition}:execute-api:${SAMPLE.region}:${SAMPLE.account}:${SAMPLE.apiId}/$default/${method}${path.replace('{uid}', uid)}`;
};

describe('admin interface', () => {
  it('serves exactly the four admin routes with AWS_IAM authorization, each integrated with the Admin function, payload format 2.0', () => {
    const iamRoutes = routes(prod).filter((route) => route.AuthorizationType === 'AWS_IAM');
    const adminRoutes = routes(prod).filter((route) => String(route.RouteKey).includes('/admin/'));

    expect(iamRoutes.map((route) => route.RouteKey).sort()).toEqual([...ADMIN].sort());
    expect(adminRoutes.map((route) => route.RouteKey).sort()).toEqual([...ADMIN].sort());
    expect(adminFunctionId(prod)).toMatch(/^AdminFunction[0-9A-F]{8}$/);
    for (const key of ADMIN) expect(functionBehind(prod, key).id).toBe(adminFunctionId(prod));
    // One integration serves the four: the function dispatches on the route key.
    const targets = new Set(adminRoutes.map((route) => route.Target['Fn::Join'][1][1].Ref as string));
    expect(targets.size).toBe(1);
    expect(prod.toJSON().Resources[[...targets][0]!].Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('leaves the contract routes without IAM or any other gateway authorizer, and out of the Admin function', () => {
    const contract = routes(prod).filter((route) => CONTRACT.includes(route.RouteKey));

    expect(contract).toHaveLength(CONTRACT.length);
    for (const route of contract) {
      expect(route.AuthorizationType).toBe('NONE');
      expect(route.AuthorizerId).toBeUndefined();
      expect(functionBehind(prod, route.RouteKey).id).not.toBe(adminFunctionId(prod));
    }
  });

  it('has a managed policy with exactly one statement: Allow execute-api:Invoke on the four admin routes of the $default stage', () => {
    const [[, policy] = []] = managedPolicies(prod);
    const apiId = Object.keys(prod.findResources('AWS::ApiGatewayV2::Api'))[0]!;
    const arn = (resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', { Ref: apiId }, resource]],
    });

    expect(managedPolicies(prod)).toHaveLength(1);
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'InvokeAdminRoutes',
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: [
          arn('/$default/PUT/admin/v1/users/*'),
          arn('/$default/GET/admin/v1/users/*'),
          arn('/$default/PUT/admin/v1/users/*/phone'),
          arn('/$default/DELETE/admin/v1/users/*'),
        ],
      },
    ]);
    // Not attached to anything in the stack: the login service and operators attach it.
    expect(policy?.Properties.Roles ?? []).toEqual([]);
    expect(policy?.Properties.Users ?? []).toEqual([]);
    expect(policy?.Properties.Groups ?? []).toEqual([]);
  });

  it('grants every admin request, whatever the uid, and no request to any other route of the API', () => {
    const apiId = Object.keys(prod.findResources('AWS::ApiGatewayV2::Api'))[0]!;
    const patterns = managedPolicies(prod)
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Array<{ Resource: unknown[] }>)
      .flatMap((statement) => statement.Resource.map((resource) => sampleArn(resource, apiId)));
    const granted = (arn: string) => patterns.some((pattern) => iamMatches(pattern, arn));
    const otherRoutes = routes(prod)
      .map((route) => route.RouteKey as string)
      .filter((key) => !ADMIN.includes(key));

    for (const key of ADMIN) expect([key, granted(requestArn(key))]).toEqual([key, true]);
    expect(otherRoutes).toEqual(expect.arrayContaining(CONTRACT));
    expect(otherRoutes.filter((key) => granted(requestArn(key)))).toEqual([]);
    // Another stage, or the same path under another method, is not granted either.
    expect(granted(requestArn(ADMIN[1]!).replace('/$default/', '/prod/'))).toBe(false);
    expect(granted(requestArn('POST /admin/v1/users/{uid}'))).toBe(false);
  });

  it('lets the Admin role get, put, update, delete and condition-check items of the users table, and nothing else but its logs', () => {
    const { codes, users } = tableIds(prod);
    const statements = statementsOf(prod, adminFunctionId(prod));
    const dynamo = statements.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));

    expect(dynamo.flatMap((statement) => statement.Action).sort()).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamo.flatMap((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [users, 'Arn'] }]);
    expect(JSON.stringify(statements)).not.toContain(codes);
    expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect(statements.flatMap((statement) => statement.Action).filter((action) => !/^(dynamodb|logs):/.test(action))).toEqual([]);
  });

  it('outputs the admin policy ARN, saying who attaches it, beside the API URL', () => {
    const outputs = prod.findOutputs('*');
    const [[policyId] = []] = managedPolicies(prod);

    expect(outputs.AdminPolicyArn?.Value).toEqual({ Ref: policyId });
    expect(outputs.AdminPolicyArn?.Description).toMatch(/login service's role/);
    expect(outputs.AdminPolicyArn?.Description).toMatch(/operators/);
    expect(outputs.ApiUrl?.Value).toBeDefined();
  });

  it('gives the Admin function the users table, and the calling code and tombstone retention only when context sets them', () => {
    const common = { POWERTOOLS_SERVICE_NAME: 'phone-link', POWERTOOLS_METRICS_NAMESPACE: 'PhoneLink', POWERTOOLS_LOG_LEVEL: 'INFO' };
    const tuned = synthesize({ ...PROD_CONTEXT, domesticCallingCode: '+44', erasedUserRetentionDays: '7', userProvisioning: 'registered' }).template;

    expect(environmentOf(prod, ADMIN[0]!)).toEqual({ ...common, USERS_TABLE_NAME: { Ref: tableIds(prod).users } });
    expect(environmentOf(tuned, ADMIN[0]!)).toEqual({
      ...common,
      USERS_TABLE_NAME: { Ref: tableIds(tuned).users },
      DOMESTIC_CALLING_CODE: '44',
      ERASED_USER_RETENTION_DAYS: '7',
    });
  });

  it("alarms on the Admin function's errors, throttles and duration like the others'", () => {
    const adminAlarms = Object.values(prod.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties)
      // Metric math (the tables' throttles) watches no function.
      .filter((alarm) => !alarm.Metrics?.some((metric: { Expression?: string }) => metric.Expression !== undefined))
      .filter((alarm) => {
        const { Dimensions: dimensions } = alarmMetric(alarm);
        return dimensions?.some((dimension) => JSON.stringify(dimension.Value) === JSON.stringify({ Ref: adminFunctionId(prod) }));
      });

    expect(adminAlarms.map((alarm) => [alarm.AlarmName, alarmMetric(alarm).MetricName, alarm.Threshold]).sort()).toEqual([
      ['PhoneLink-prod-AdminErrors', 'Errors', 1],
      ['PhoneLink-prod-AdminNearTimeout', 'Duration', 0.8 * FUNCTION_TIMEOUT_MS],
      ['PhoneLink-prod-AdminThrottles', 'Throttles', 1],
    ]);
  });
});
