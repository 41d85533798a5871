import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_TIMEOUT_MS } from '../../functions/request-budget';
import { SECRET_ACTIONS, TABLE_ACTIONS } from '../../lib/constructs/api-function';
import { HTTP_FUNCTION_NAMES, ROUTE_NAMES, ROUTES, routeKey, routesServedBy } from '../../functions/http/routes';
import { ACCESS_LOG_FIELDS } from '../../lib/phone-link-stack';
import { DEFAULT_ALARM_THRESHOLDS, DEFAULT_SEND_THROTTLE, DEFAULT_THROTTLE } from '../../lib/stage-config';
import {
  alarmMetric,
  allStatements,
  arnOf,
  CERTIFICATE_ARN,
  environmentOf,
  EXISTING_SECRET_ARN,
  EXISTING_TOPIC_ARN,
  FULL_CONTEXT,
  functionBehind,
  PROD_CONTEXT,
  refOf,
  statementsOf,
  synthesize,
  tableIds,
  type Statement,
} from './synth';

const SEND = routeKey(ROUTES.sendPhoneSmsCode);
const LINK = routeKey(ROUTES.relationPhone);
const USER_INFO = routeKey(ROUTES.userInfo);
const UNLINK = routeKey(ROUTES.deletePhoneRelation);

const CONTRACT = ROUTE_NAMES.filter((name) => ROUTES[name].authorization !== 'iam').map((name) => routeKey(ROUTES[name]));
const ADMIN = routesServedBy('admin').map((name) => routeKey(ROUTES[name]));
const DEPLOYED = [...CONTRACT, ...ADMIN];
/** One route per function: each contract route has its own, the admin routes share one. */
const ONE_ROUTE_PER_FUNCTION = HTTP_FUNCTION_NAMES.map((name) => routeKey(ROUTES[routesServedBy(name)[0]!]));

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem'];

let dev: Template;
let prod: Template;
let full: Template;

beforeAll(() => {
  dev = synthesize().template;
  prod = synthesize(PROD_CONTEXT).template;
  full = synthesize(FULL_CONTEXT).template;
});

const stages = [
  ['dev', () => dev],
  ['prod', () => prod],
] as const;

const resourcesOf = (template: Template, type: string) => Object.values(template.findResources(type));

const secretIds = (template: Template) => {
  const pepper = Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { GenerateSecretString: { PasswordLength: 64 } } }));
  const domains = Object.keys(template.findResources('AWS::SecretsManager::Secret')).filter((id) => !pepper.includes(id));
  return { pepper: pepper[0], domains: domains[0] };
};

const dynamoStatements = (statements: Statement[]): Statement[] =>
  statements.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));

/** DynamoDB actions a function is allowed on one table. */
const actionsOn = (template: Template, route: string, tableId: string): string[] =>
  dynamoStatements(statementsOf(template, functionBehind(template, route).id))
    .filter((statement) => statement.Effect === 'Allow' && statement.Resource.some((resource) => arnOf(resource) === tableId))
    .flatMap((statement) => statement.Action);

/** A function's Secrets Manager statements, as `action on resource` lines. */
const secretsReadBy = (template: Template, route: string): Array<{ effect: string; actions: string[]; resource: unknown }> =>
  statementsOf(template, functionBehind(template, route).id)
    .filter((statement) => statement.Action.some((action) => action.startsWith('secretsmanager:')))
    .flatMap((statement) => statement.Resource.map((resource) => ({ effect: statement.Effect, actions: statement.Action, resource })));

const reads = (...resources: unknown[]) => resources.map((resource) => ({ effect: 'Allow', actions: [...SECRET_ACTIONS], resource }));

const warnings = (context: Record<string, unknown>) =>
  Annotations.fromStack(synthesize(context).stack)
    .findWarning('*', Match.anyValue())
    .map((warning) => String(warning.entry.data));

describe('HTTP API', () => {
  it.each(stages)('%s serves exactly the contract routes, each by its own function, and the admin routes by one more, with payload format 2.0', (_stage, template) => {
    const routeKeys = resourcesOf(template(), 'AWS::ApiGatewayV2::Route').map((route) => route.Properties.RouteKey as string);
    const functionOf = (route: string) => functionBehind(template(), route).id;

    expect(routeKeys.sort()).toEqual([...DEPLOYED].sort());
    expect(routeKeys.filter((key) => key.includes('/_local'))).toEqual([]);
    expect(new Set(ONE_ROUTE_PER_FUNCTION.map(functionOf)).size).toBe(ONE_ROUTE_PER_FUNCTION.length);
    expect(new Set(ADMIN.map(functionOf))).toEqual(new Set([functionOf(ADMIN[0]!)]));
    for (const integration of resourcesOf(template(), 'AWS::ApiGatewayV2::Integration')) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('throttles the auto-deployed $default stage, with defaults unless context overrides them', () => {
    const overridden = synthesize({ throttleRateLimit: '5', throttleBurstLimit: '7', sendThrottleRateLimit: '2', sendThrottleBurstLimit: '3' }).template;

    expect(resourcesOf(dev, 'AWS::ApiGatewayV2::Stage')).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          StageName: '$default',
          AutoDeploy: true,
          DefaultRouteSettings: { ThrottlingRateLimit: DEFAULT_THROTTLE.rateLimit, ThrottlingBurstLimit: DEFAULT_THROTTLE.burstLimit },
        }),
      }),
    ]);
    expect(resourcesOf(overridden, 'AWS::ApiGatewayV2::Stage')[0]?.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 5,
      ThrottlingBurstLimit: 7,
    });
  });

  it.each(stages)('%s: throttles the send route on its own, more tightly than the stage, once the route exists', (_stage, template) => {
    const [stageId, stage] = Object.entries(template().findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    const [sendRouteId] = Object.keys(template().findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: SEND } }));

    expect(stage.Properties.RouteSettings).toEqual({
      [SEND]: { ThrottlingRateLimit: DEFAULT_SEND_THROTTLE.rateLimit, ThrottlingBurstLimit: DEFAULT_SEND_THROTTLE.burstLimit },
    });
    // Every other route keeps the stage's throttle.
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: DEFAULT_THROTTLE.rateLimit, ThrottlingBurstLimit: DEFAULT_THROTTLE.burstLimit });
    expect(DEFAULT_SEND_THROTTLE.rateLimit).toBeLessThan(DEFAULT_THROTTLE.rateLimit);
    // CloudFormation refuses route settings for a route it has not created yet.
    expect(sendRouteId).toBeDefined();
    expect(template().toJSON().Resources[stageId].DependsOn).toEqual(expect.arrayContaining([sendRouteId]));
  });

  it('throttles the send route as context says', () => {
    const [stage] = resourcesOf(synthesize({ ...PROD_CONTEXT, sendThrottleRateLimit: '3', sendThrottleBurstLimit: '100' }).template, 'AWS::ApiGatewayV2::Stage');

    expect(stage?.Properties.RouteSettings).toEqual({ [SEND]: { ThrottlingRateLimit: 3, ThrottlingBurstLimit: 100 } });
  });

  it.each([...stages, ['full', () => full] as const])(
    '%s: writes JSON access logs with the path and route key, never the query string',
    (_stage, template) => {
      const [stage] = resourcesOf(template(), 'AWS::ApiGatewayV2::Stage');
      const { Format: format, DestinationArn: destination } = stage?.Properties.AccessLogSettings ?? {};

      expect(JSON.parse(format)).toEqual(ACCESS_LOG_FIELDS);
      expect(format).toContain('$context.path');
      expect(format).toContain('$context.routeKey');
      // Every variable that carries the raw query string or the full URI.
      expect(format).not.toMatch(/requestUri|rawQueryString|querystring|queryString|\$input|\$request|\$method\.request/i);
      expect(template().toJSON().Resources[arnOf(destination)!]).toMatchObject({ Type: 'AWS::Logs::LogGroup' });
    },
  );

  it('has no CORS and the execute-api endpoint by default', () => {
    const [api] = resourcesOf(prod, 'AWS::ApiGatewayV2::Api');

    expect(api?.Properties.CorsConfiguration).toBeUndefined();
    expect(api?.Properties.DisableExecuteApiEndpoint).toBe(false);
    expect(resourcesOf(prod, 'AWS::ApiGatewayV2::DomainName')).toEqual([]);
  });

  it('allows exactly the configured origins when CORS is asked for', () => {
    expect(resourcesOf(full, 'AWS::ApiGatewayV2::Api')[0]?.Properties.CorsConfiguration).toEqual({
      AllowOrigins: ['https://app.example.com', 'https://admin.example.com'],
      AllowMethods: ['GET', 'POST', 'DELETE'],
      AllowHeaders: expect.any(Array),
      MaxAge: 86400,
    });
  });

  it('lets the preflight pass every header the apps send: token, body type, language and the platform apps\' own', () => {
    const allowed = resourcesOf(full, 'AWS::ApiGatewayV2::Api')[0]?.Properties.CorsConfiguration.AllowHeaders as string[];
    expect([...allowed].sort()).toEqual(
      ['authorization', 'content-type', 'x-q-language', 'accept-language', 'appid', 'appversion', 'appsystemtype', 'quec-random-url'].sort(),
    );
  });

  it('serves a custom domain over TLS 1.2 as the only way in, and says where DNS must point', () => {
    const [domain] = resourcesOf(full, 'AWS::ApiGatewayV2::DomainName');

    expect(domain?.Properties).toEqual({
      DomainName: 'api.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    expect(resourcesOf(full, 'AWS::ApiGatewayV2::ApiMapping')).toHaveLength(1);
    expect(resourcesOf(full, 'AWS::ApiGatewayV2::Api')[0]?.Properties.DisableExecuteApiEndpoint).toBe(true);
    expect(full.findOutputs('ApiUrl').ApiUrl?.Value).toBe('https://api.example.com/');
    expect(Object.keys(full.findOutputs('*'))).toEqual(expect.arrayContaining(['CustomDomainTarget', 'CustomDomainHostedZoneId']));
  });

  it('outputs the API URL', () => {
    expect(dev.findOutputs('ApiUrl')).toEqual({ ApiUrl: expect.objectContaining({ Value: expect.anything() }) });
  });
});

describe('functions', () => {
  it.each([
    ['dev', 7, () => dev],
    ['prod', 90, () => prod],
  ])('%s: Node.js 22 on arm64, 256 MB, 10 s, source maps, Powertools names, own log group kept %i days', (_stage, days, template) => {
    const functions = resourcesOf(template(), 'AWS::Lambda::Function');
    const logGroups = template().findResources('AWS::Logs::LogGroup');

    expect(functions).toHaveLength(ONE_ROUTE_PER_FUNCTION.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 10,
        Handler: 'index.handler',
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: 'phone-link',
            POWERTOOLS_METRICS_NAMESPACE: 'PhoneLink',
            POWERTOOLS_LOG_LEVEL: 'INFO',
          }),
        },
      });
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(logGroups[refOf(fn.Properties.LoggingConfig.LogGroup)]?.Properties.RetentionInDays).toBe(days);
    }
  });

  it('traces every function with X-Ray when asked', () => {
    const functions = resourcesOf(full, 'AWS::Lambda::Function');

    expect(functions.map((fn) => fn.Properties.TracingConfig)).toEqual(functions.map(() => ({ Mode: 'Active' })));
  });

  it('gives each function only the settings it reads', () => {
    const common = ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
    const keysOf = (route: string) => Object.keys(environmentOf(prod, route)).sort();

    expect(keysOf(SEND)).toEqual([...common, 'CODES_TABLE_NAME', 'CODE_PEPPER_SECRET_ARN', 'USER_DOMAINS', 'USER_DOMAIN_SECRETS_SECRET_ARN'].sort());
    expect(keysOf(LINK)).toEqual([...common, 'CODES_TABLE_NAME', 'CODE_PEPPER_SECRET_ARN', 'JWKS_URL', 'JWT_ISSUER', 'USERS_TABLE_NAME'].sort());
    expect(keysOf(UNLINK)).toEqual([...common, 'CODES_TABLE_NAME', 'CODE_PEPPER_SECRET_ARN', 'JWKS_URL', 'JWT_ISSUER', 'USERS_TABLE_NAME'].sort());
    expect(keysOf(USER_INFO)).toEqual([...common, 'JWKS_URL', 'JWT_ISSUER', 'USERS_TABLE_NAME'].sort());
    for (const route of ADMIN) expect(keysOf(route)).toEqual([...common, 'USERS_TABLE_NAME'].sort());
    expect(environmentOf(prod, SEND)).toMatchObject({ USER_DOMAINS: 'C.DM.5903.1,C.DM.5903.2' });
    expect(environmentOf(prod, USER_INFO)).toMatchObject({ JWKS_URL: PROD_CONTEXT.jwksUrl });
  });

  it('passes overrides from context only to the functions that read them', () => {
    const template = synthesize({
      ...FULL_CONTEXT,
      domesticCallingCode: '+1',
      codeTtlSeconds: '120',
      codeMaxWrongTries: 3,
      smsCooldownSeconds: '0',
      smsMaxPerPhonePerDay: '4',
      smsMaxPerIpPerHour: '20',
      smsMaxPerMinute: '100',
      smsMaxPerCountryPerMinute: '0',
      signatureMaxSkewSeconds: '300',
      nonceTtlSeconds: '900',
      userProvisioning: 'registered',
      erasedUserRetentionDays: '7',
    }).template;
    const codeRules = { CODE_TTL_SECONDS: '120', CODE_MAX_WRONG_TRIES: '3', DOMESTIC_CALLING_CODE: '1' };
    const auth = { JWKS_URL: PROD_CONTEXT.jwksUrl, JWT_ISSUER: 'https://login.example.com' };

    expect(environmentOf(template, SEND)).toMatchObject({
      ...codeRules,
      SMS_COOLDOWN_SECONDS: '0',
      SMS_MAX_PER_PHONE_PER_DAY: '4',
      SMS_MAX_PER_IP_PER_HOUR: '20',
      SMS_MAX_PER_MINUTE: '100',
      SMS_MAX_PER_COUNTRY_PER_MINUTE: '0',
      SIGNATURE_MAX_SKEW_SECONDS: '300',
      NONCE_TTL_SECONDS: '900',
      SMS_SENDER_ID: 'PhoneLink',
      SMS_ALLOWED_COUNTRIES: 'CN,HK',
    });
    expect(environmentOf(template, SEND)).not.toHaveProperty('JWT_ISSUER');
    expect(environmentOf(template, LINK)).toMatchObject({ ...codeRules, ...auth, SMS_ALLOWED_COUNTRIES: 'CN,HK' });
    for (const route of [LINK, USER_INFO, UNLINK, ...ADMIN]) {
      expect(environmentOf(template, route)).not.toHaveProperty('SMS_MAX_PER_MINUTE');
      expect(environmentOf(template, route)).not.toHaveProperty('SMS_MAX_PER_COUNTRY_PER_MINUTE');
    }
    expect(environmentOf(template, LINK)).not.toHaveProperty('SMS_SENDER_ID');
    expect(environmentOf(template, UNLINK)).toMatchObject({ ...codeRules, ...auth });
    expect(environmentOf(template, UNLINK)).not.toHaveProperty('SMS_ALLOWED_COUNTRIES');
    expect(environmentOf(template, USER_INFO)).toMatchObject(auth);
    expect(environmentOf(template, USER_INFO)).not.toHaveProperty('CODE_TTL_SECONDS');
    // Whether a valid token is enough: for the functions that answer a signed-in user, and only them.
    for (const route of [LINK, USER_INFO, UNLINK]) expect(environmentOf(template, route)).toMatchObject({ USER_PROVISIONING: 'registered' });
    for (const route of [SEND, ...ADMIN]) expect(environmentOf(template, route)).not.toHaveProperty('USER_PROVISIONING');
    // How long an erased user's tombstone stays: the admin function's alone.
    for (const route of CONTRACT) expect(environmentOf(template, route)).not.toHaveProperty('ERASED_USER_RETENTION_DAYS');
  });

  it('warns when dev placeholders stand in for the key set and user domains, and only then', () => {
    const placeholderWarnings = (context: Record<string, unknown>) => warnings(context).filter((text) => /placeholders/.test(text));

    expect(placeholderWarnings({})).toHaveLength(1);
    expect(placeholderWarnings({ jwksUrl: PROD_CONTEXT.jwksUrl, userDomains: 'C.DM.1.1' })).toHaveLength(0);
    expect(placeholderWarnings(PROD_CONTEXT)).toHaveLength(0);
  });
});

describe('secrets', () => {
  /** Values that look like key material: long runs of base64/hex characters with both letters and digits. */
  const looksLikeSecret = (value: string) => /^[A-Za-z0-9+/=_-]{16,}$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value);

  it.each([...stages, ['full', () => full] as const])('%s: no environment variable holds a secret, only *_SECRET_ARN references', (_stage, template) => {
    const secretsInTemplate = Object.keys(template().findResources('AWS::SecretsManager::Secret'));
    const variables = resourcesOf(template(), 'AWS::Lambda::Function').flatMap((fn) => Object.entries<unknown>(fn.Properties.Environment.Variables));
    const secretish = variables.filter(([name]) => /SECRET|PEPPER|PASSWORD|PRIVATE|KEY/.test(name));
    const namesSecret = (value: unknown) => value === EXISTING_SECRET_ARN || secretsInTemplate.includes(refOf(value));

    expect(secretish.length).toBeGreaterThan(0);
    expect(secretish.filter(([name, value]) => !name.endsWith('_SECRET_ARN') || !namesSecret(value))).toEqual([]);
    expect(variables.filter(([, value]) => typeof value === 'string' && looksLikeSecret(value))).toEqual([]);
    expect(variables.map(([name]) => name).filter((name) => name === 'CODE_PEPPER' || name === 'USER_DOMAIN_SECRETS')).toEqual([]);
  });

  it('keeps secret values out of the template: Secrets Manager generates them', () => {
    const secrets = resourcesOf(dev, 'AWS::SecretsManager::Secret');

    expect(secrets).toHaveLength(2);
    for (const secret of secrets) expect(secret.Properties.SecretString).toBeUndefined();
    const { pepper, domains } = secretIds(dev);
    expect(dev.toJSON().Resources[pepper!].Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
    expect(dev.toJSON().Resources[domains!].Properties.GenerateSecretString).toEqual({
      SecretStringTemplate: '{}',
      GenerateStringKey: '_unset',
      ExcludePunctuation: true,
    });
  });

  it('ignores the retired context keys codePepper and userDomainSecrets', () => {
    const template = synthesize({ ...PROD_CONTEXT, codePepper: 'old-context-pepper-value', userDomainSecrets: '{"old-domain":"old-domain-secret"}' }).template;

    expect(JSON.stringify(template.toJSON())).not.toMatch(/old-context-pepper-value|old-domain/);
  });

  it('lets each function read exactly the secrets it uses, and only with GetSecretValue', () => {
    const { pepper, domains } = secretIds(prod);

    expect(secretsReadBy(prod, SEND)).toEqual(reads({ Ref: pepper }, { Ref: domains }));
    expect(secretsReadBy(prod, LINK)).toEqual(reads({ Ref: pepper }));
    expect(secretsReadBy(prod, UNLINK)).toEqual(reads({ Ref: pepper }));
    expect(secretsReadBy(prod, USER_INFO)).toEqual([]);
    expect(environmentOf(prod, SEND)).toMatchObject({
      CODE_PEPPER_SECRET_ARN: { Ref: pepper },
      USER_DOMAIN_SECRETS_SECRET_ARN: { Ref: domains },
    });
  });

  it('uses an existing user-domain secret instead of creating one, when given its ARN', () => {
    expect(resourcesOf(full, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(environmentOf(full, SEND).USER_DOMAIN_SECRETS_SECRET_ARN).toBe(EXISTING_SECRET_ARN);
    expect(secretsReadBy(full, SEND)).toEqual(reads({ Ref: secretIds(full).pepper }, EXISTING_SECRET_ARN));
    expect(full.findOutputs('UserDomainSecretsArn').UserDomainSecretsArn?.Value).toBe(EXISTING_SECRET_ARN);
  });

  it.each([
    ['prod', 'Retain', () => prod],
    ['dev', 'Delete', () => dev],
  ])('%s: the user-domain secret has deletion policy %s; the pepper always goes with the stack', (_stage, policy, template) => {
    const { pepper, domains } = secretIds(template());

    expect(template().toJSON().Resources[domains!]).toMatchObject({ DeletionPolicy: policy });
    expect(template().toJSON().Resources[pepper!]).toMatchObject({ DeletionPolicy: 'Delete' });
    expect(template().findOutputs('UserDomainSecretsArn').UserDomainSecretsArn?.Value).toEqual({ Ref: domains });
  });
});

describe('tables', () => {
  it.each(stages)('%s: codes in an on-demand, encrypted table keyed by pk that expires items by their ttl attribute', (_stage, template) => {
    const { codes } = tableIds(template());

    expect(template().toJSON().Resources[codes].Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it.each([
    ['prod', true, 'Retain', () => prod],
    ['dev', false, 'Delete', () => dev],
  ])('%s: users in an on-demand, encrypted table with PITR; deletion protection %s, deletion policy %s', (_stage, protect, policy, template) => {
    const { users } = tableIds(template());

    expect(template().toJSON().Resources[users]).toMatchObject({
      DeletionPolicy: policy,
      UpdateReplacePolicy: policy,
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // Only the tombstones of erased users carry a ttl: they go after the retention period.
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: protect,
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  it.each(stages)('%s: the codes table (nothing in it outlives a day) goes with the stack', (_stage, template) => {
    expect(template().toJSON().Resources[tableIds(template()).codes]).toMatchObject({ DeletionPolicy: 'Delete' });
  });

  it.each([
    ['prod', 'Retain', () => prod],
    ['dev', 'Delete', () => dev],
  ])('%s: log groups have deletion policy %s', (_stage, policy, template) => {
    const logGroups = resourcesOf(template(), 'AWS::Logs::LogGroup');

    expect(logGroups).toHaveLength(ONE_ROUTE_PER_FUNCTION.length + 1); // one per function, and the access logs
    for (const logGroup of logGroups) expect(logGroup).toMatchObject({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
  });

  it('hands each function only the tables it uses', () => {
    const { codes, users } = tableIds(prod);
    const tableVariables = (route: string) =>
      Object.fromEntries(Object.entries(environmentOf(prod, route)).filter(([name]) => name.endsWith('_TABLE_NAME')));

    expect(tableVariables(SEND)).toEqual({ CODES_TABLE_NAME: { Ref: codes } });
    expect(tableVariables(USER_INFO)).toEqual({ USERS_TABLE_NAME: { Ref: users } });
    for (const route of ADMIN) expect(tableVariables(route)).toEqual({ USERS_TABLE_NAME: { Ref: users } });
    for (const route of [LINK, UNLINK]) expect(tableVariables(route)).toEqual({ CODES_TABLE_NAME: { Ref: codes }, USERS_TABLE_NAME: { Ref: users } });
  });
});

describe('IAM', () => {
  it.each([...stages, ['full', () => full] as const])('%s: no statement uses a wildcard action', (_stage, template) => {
    const actions = allStatements(template()).flatMap((statement) => statement.Action);

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it.each(stages)('%s: no role has a managed policy', (_stage, template) => {
    for (const role of resourcesOf(template(), 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('allows DynamoDB actions on the two tables only, and "*" only for sns:Publish (and X-Ray when tracing)', () => {
    const { codes, users } = tableIds(full);
    const allows = allStatements(full).filter((statement) => statement.Effect === 'Allow');

    for (const statement of dynamoStatements(allows)) {
      expect(statement.Action.every((action) => action.startsWith('dynamodb:'))).toBe(true);
      expect(statement.Resource.map(arnOf).filter((id) => id !== codes && id !== users)).toEqual([]);
    }
    const unscoped = [...new Set(allows.filter((statement) => statement.Resource.includes('*')).flatMap((statement) => statement.Action))];
    expect(unscoped.sort()).toEqual(['sns:Publish', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(allStatements(prod).filter((statement) => statement.Effect === 'Allow' && statement.Resource.includes('*')).flatMap((s) => s.Action)).toEqual([
      'sns:Publish',
    ]);
  });

  it('lets each function write only its own log group', () => {
    for (const route of ONE_ROUTE_PER_FUNCTION) {
      const { id, properties } = functionBehind(prod, route);
      const logStatements = statementsOf(prod, id).filter((statement) => statement.Action.some((action) => action.startsWith('logs:')));

      expect(logStatements).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [{ 'Fn::GetAtt': [refOf(properties.LoggingConfig.LogGroup), 'Arn'] }] },
      ]);
    }
  });

  it('lets userInfo read the users table and nothing else', () => {
    const { codes, users } = tableIds(prod);
    const actions = statementsOf(prod, functionBehind(prod, USER_INFO).id).flatMap((statement) => statement.Action);

    expect(actionsOn(prod, USER_INFO, users).sort()).toEqual([...TABLE_ACTIONS.RO].sort());
    expect(actionsOn(prod, USER_INFO, codes)).toEqual([]);
    expect(actions.filter((action) => WRITE_ACTIONS.includes(action))).toEqual([]);
    expect(actions.filter((action) => !action.startsWith('dynamodb:') && !action.startsWith('logs:'))).toEqual([]);
  });

  it.each([
    [LINK, 'RW'],
    [UNLINK, 'ITEM_RW'],
  ] as const)('lets %s read and write both tables (one transaction spans them) at level %s, and send no SMS', (route, level) => {
    const { codes, users } = tableIds(prod);

    for (const table of [codes, users]) expect(actionsOn(prod, route, table).sort()).toEqual([...TABLE_ACTIONS[level]].sort());
    const actions = statementsOf(prod, functionBehind(prod, route).id).flatMap((statement) => statement.Action);
    expect(actions.filter((action) => action.startsWith('sns:'))).toEqual([]);
  });

  it('lets sendPhoneSmsCode write the codes table, never read it, and text phone numbers, but not touch users or publish to topics', () => {
    const { codes, users } = tableIds(prod);
    const statements = statementsOf(prod, functionBehind(prod, SEND).id);

    expect(actionsOn(prod, SEND, codes).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOn(prod, SEND, users)).toEqual([]);
    expect(statements.filter((statement) => statement.Action.includes('sns:Publish'))).toEqual([
      { Sid: 'SendSmsToPhoneNumbers', Effect: 'Allow', Action: ['sns:Publish'], Resource: ['*'] },
      {
        Sid: 'NoPublishToTopics',
        Effect: 'Deny',
        Action: ['sns:Publish'],
        Resource: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] }],
      },
    ]);
  });
});

describe('alarms', () => {
  const alarmsOf = (template: Template) =>
    Object.fromEntries(resourcesOf(template, 'AWS::CloudWatch::Alarm').map((alarm) => [alarm.Properties.AlarmName as string, alarm.Properties]));

  const emf = { Namespace: 'PhoneLink', Dimensions: [{ Name: 'service', Value: 'phone-link' }], Statistic: 'Sum', Period: 300 };
  const functionNamesOf = (template: Template) =>
    ONE_ROUTE_PER_FUNCTION.map((route) => functionBehind(template, route).id.replace(/Function[0-9A-F]{8}$/, ''));

  it.each(stages)('%s: watches the API, each function, each table, the key set, SMS sends, breakers and spend', (stage, template) => {
    const alarms = alarmsOf(template());

    expect(Object.keys(alarms).sort()).toEqual(
      [
        'Api5xx',
        'KeySetFailures',
        'SmsFailures',
        'SendRateSpike',
        'SmsSpend',
        'CountryBreakerTrips',
        'GlobalBreakerTrips',
        'CodesTableThrottles',
        'UsersTableThrottles',
        ...functionNamesOf(template()).flatMap((name) => [`${name}Errors`, `${name}Throttles`, `${name}NearTimeout`]),
      ]
        .map((name) => `PhoneLink-${stage}-${name}`)
        .sort(),
    );
    expect(alarmMetric(alarms[`PhoneLink-${stage}-Api5xx`]!)).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum', Period: 300 });
    for (const alarm of Object.values(alarms)) {
      expect(alarm).toMatchObject({ EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
    // No data is no traffic, not a breach; except for the spend, a running total that a quiet period leaves where it was.
    const missing = Object.fromEntries(Object.entries(alarms).map(([name, alarm]) => [name.replace(`PhoneLink-${stage}-`, ''), alarm.TreatMissingData]));
    expect(Object.entries(missing).filter(([, treat]) => treat !== 'notBreaching')).toEqual([['SmsSpend', 'ignore']]);
  });

  it.each(stages)('%s: says in every alarm which section of docs/RUNBOOK.md to follow, and which function it is about', (stage, template) => {
    const functionNames = functionNamesOf(template());
    const described = Object.entries(alarmsOf(template())).map(([name, alarm]) => {
      const id = name.replace(`PhoneLink-${stage}-`, '');
      // Per-function alarms share a section (#errors, #throttles, #neartimeout) and name their function first.
      const fn = functionNames.find((candidate) => /^(Errors|Throttles|NearTimeout)$/.test(id.replace(candidate, '')) && id.startsWith(candidate));
      const description = String(alarm.AlarmDescription);
      return {
        id,
        anchor: / See docs\/RUNBOOK\.md#([a-z0-9]+)$/.exec(description)?.[1],
        expected: (fn === undefined ? id : id.slice(fn.length)).toLowerCase(),
        namesItsFunction: fn === undefined || description.startsWith(`${fn} `),
      };
    });

    expect(described.filter(({ anchor, expected, namesItsFunction }) => anchor !== expected || !namesItsFunction)).toEqual([]);
    expect([...new Set(described.map(({ anchor }) => anchor))].sort()).toEqual(
      [
        'api5xx',
        'errors',
        'throttles',
        'neartimeout',
        'codestablethrottles',
        'userstablethrottles',
        'keysetfailures',
        'smsfailures',
        'sendratespike',
        'countrybreakertrips',
        'globalbreakertrips',
        'smsspend',
      ].sort(),
    );
  });

  it('builds the SMS alarms on the functions\' EMF metrics, with the configured thresholds', () => {
    const defaults = alarmsOf(prod);
    const tuned = alarmsOf(synthesize({ ...PROD_CONTEXT, codesSentAlarmThreshold: '1000', smsFailuresAlarmThreshold: '20' }).template);

    expect(alarmMetric(defaults['PhoneLink-prod-SmsFailures']!)).toEqual({ ...emf, MetricName: 'SmsFailures' });
    expect(defaults['PhoneLink-prod-SmsFailures']?.Threshold).toBe(DEFAULT_ALARM_THRESHOLDS.smsFailuresPer5Minutes);
    expect(alarmMetric(defaults['PhoneLink-prod-SendRateSpike']!)).toEqual({ ...emf, MetricName: 'CodesSent' });
    expect(defaults['PhoneLink-prod-SendRateSpike']?.Threshold).toBe(DEFAULT_ALARM_THRESHOLDS.codesSentPer5Minutes);
    expect(tuned['PhoneLink-prod-SmsFailures']?.Threshold).toBe(20);
    expect(tuned['PhoneLink-prod-SendRateSpike']?.Threshold).toBe(1000);
  });

  it.each(stages)('%s: alarms on the first key-set failure, and the first breaker trip, in 5 minutes, on the functions\' EMF metrics', (stage, template) => {
    const alarms = alarmsOf(template());

    for (const name of ['KeySetFailures', 'CountryBreakerTrips', 'GlobalBreakerTrips']) {
      expect(alarmMetric(alarms[`PhoneLink-${stage}-${name}`]!)).toEqual({ ...emf, MetricName: name });
      expect(alarms[`PhoneLink-${stage}-${name}`]?.Threshold).toBe(1);
    }
  });

  it('alarms on the month\'s SMS spend (SNS, account-wide: no dimensions) at the threshold context sets', () => {
    const spend = (template: Template) => alarmsOf(template)[`PhoneLink-prod-SmsSpend`]!;
    const tuned = spend(synthesize({ ...PROD_CONTEXT, smsSpendAlarmUsd: '80.5' }).template);

    expect(alarmMetric(spend(prod))).toEqual({ Namespace: 'AWS/SNS', MetricName: 'SMSMonthToDateSpentUSD', Dimensions: undefined, Statistic: 'Maximum', Period: 300 });
    expect(spend(prod).Threshold).toBe(DEFAULT_ALARM_THRESHOLDS.smsSpendUsd);
    expect(DEFAULT_ALARM_THRESHOLDS.smsSpendUsd).toBe(100);
    expect(tuned.Threshold).toBe(80.5);
    expect(tuned.AlarmDescription).toMatch(/USD 80\.5/);
  });

  it.each(stages)('%s: alarms when a function\'s p99 duration reaches 80%% of the timeout the functions budget for', (stage, template) => {
    const alarms = alarmsOf(template());

    for (const name of functionNamesOf(template())) {
      const alarm = alarms[`PhoneLink-${stage}-${name}NearTimeout`]!;
      expect(alarmMetric(alarm)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Duration', Statistic: 'p99', Period: 300 });
      expect(alarmMetric(alarm).Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(new RegExp(`^${name}Function`)) } }]);
      expect(alarm.Threshold).toBe(0.8 * FUNCTION_TIMEOUT_MS);
    }
  });

  it.each(stages)('%s: alarms on any throttled read or write of each table, through its throttle events', (stage, template) => {
    const alarms = alarmsOf(template());
    const { codes, users } = tableIds(template());

    for (const [name, tableId] of [['CodesTable', codes], ['UsersTable', users]] as const) {
      const alarm = alarms[`PhoneLink-${stage}-${name}Throttles`]!;
      const stats = alarm.Metrics.filter((metric: { MetricStat?: unknown }) => metric.MetricStat).map(
        (metric: { Id: string; MetricStat: { Metric: Record<string, unknown>; Stat: string; Period: number } }) => ({ id: metric.Id, ...metric.MetricStat }),
      );
      const [expression] = alarm.Metrics.filter((metric: { Expression?: string }) => metric.Expression);

      expect(alarm.Threshold).toBe(1);
      expect(stats.map((stat: { Metric: { MetricName: string } }) => stat.Metric.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
      for (const stat of stats) {
        expect(stat).toMatchObject({ Stat: 'Sum', Period: 300, Metric: { Namespace: 'AWS/DynamoDB', Dimensions: [{ Name: 'TableName', Value: { Ref: tableId } }] } });
        // Summed, with a period that has only one of the two counted as 0 rather than dropped.
        expect(expression.Expression).toContain(`FILL(${stat.id}, 0)`);
      }
      expect(expression).toMatchObject({ ReturnData: true, Expression: expect.stringContaining('+') });
    }
  });

  it('notifies nobody unless told, and warns about that in prod', () => {
    for (const alarm of Object.values(alarmsOf(prod))) expect(alarm.AlarmActions).toBeUndefined();
    expect(resourcesOf(prod, 'AWS::SNS::Topic')).toEqual([]);
    expect(warnings(PROD_CONTEXT).filter((text) => /notify nobody/.test(text))).toHaveLength(1);
    expect(warnings({ ...PROD_CONTEXT, alarmEmail: 'oncall@example.com' }).filter((text) => /notify nobody/.test(text))).toHaveLength(0);
  });

  it('notifies the alarm email (through a TLS-only topic CloudWatch may publish to) and the existing topic, on alarm and on recovery', () => {
    const [topicId] = Object.keys(full.findResources('AWS::SNS::Topic'));
    const [policy] = resourcesOf(full, 'AWS::SNS::TopicPolicy');

    full.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } });
    expect(policy?.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
      ]),
    );
    for (const alarm of Object.values(alarmsOf(full))) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }, EXISTING_TOPIC_ARN]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }, EXISTING_TOPIC_ARN]);
    }
  });
});

describe('dashboard', () => {
  type Widget = { type: string; properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  interface Graphed {
    readonly namespace: string;
    readonly name: string;
    readonly dimensions: Record<string, string>;
    readonly stat?: string;
    readonly label?: string;
  }

  /** The dashboard's widgets, each reference in the body (`Ref`, `Fn::GetAtt`) written as `${logicalId}`. */
  const widgetsOf = (template: Template): Widget[] => {
    const [dashboard] = resourcesOf(template, 'AWS::CloudWatch::Dashboard');
    const parts: unknown[] = dashboard?.Properties.DashboardBody['Fn::Join'][1];
    const reference = (part: Record<string, any>) => `\${${part.Ref ?? part['Fn::GetAtt'][0]}}`; // eslint-disable-line @typescript-eslint/no-explicit-any
    return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : reference(part as Record<string, unknown>))).join('')).widgets;
  };

  /** Every metric the graphs draw (math expressions left out, the metrics they use kept). */
  const graphedIn = (widgets: Widget[]): Graphed[] =>
    widgets
      .filter((widget) => widget.type === 'metric')
      .flatMap((widget) => widget.properties.metrics as unknown[][])
      .filter((line) => typeof line[0] === 'string')
      .map((line) => {
        const options = (typeof line.at(-1) === 'object' ? line.at(-1) : {}) as { stat?: string; label?: string };
        const pairs = line.slice(2, typeof line.at(-1) === 'object' ? -1 : undefined) as string[];
        const dimensions = Object.fromEntries(pairs.flatMap((_, i) => (i % 2 === 0 ? [[pairs[i], pairs[i + 1]]] : [])));
        return { namespace: line[0] as string, name: line[1] as string, dimensions, stat: options.stat, label: options.label };
      });

  let widgets: Widget[];
  let graphed: Graphed[];
  beforeAll(() => {
    widgets = widgetsOf(prod);
    graphed = graphedIn(widgets);
  });

  /** Of the metrics expected, those no graph draws. */
  const notGraphed = (expected: Array<Partial<Graphed>>) =>
    expected.filter((metric) => !graphed.some((line) => Object.entries(metric).every(([key, value]) => JSON.stringify(line[key as keyof Graphed]) === JSON.stringify(value))));

  it('is one dashboard, named after the stack', () => {
    expect(resourcesOf(prod, 'AWS::CloudWatch::Dashboard').map((dashboard) => dashboard.Properties.DashboardName)).toEqual(['PhoneLink-prod']);
  });

  it('shows the state of every alarm', () => {
    const alarmWidgets = widgets.filter((widget) => widget.type === 'alarm');

    expect(alarmWidgets).toHaveLength(1);
    expect([...alarmWidgets[0]!.properties.alarms].sort()).toEqual(Object.keys(prod.findResources('AWS::CloudWatch::Alarm')).map((id) => `\${${id}}`).sort());
  });

  it('graphs the business outcomes, and the refusals labelled with the envelope code the apps got', () => {
    const outcomes = ['CodesSent', 'PhonesLinked', 'PhonesUnlinked', 'PhonesLinkedByAdmin', 'UsersErased', 'KeySetFailures', 'DataDriftRepaired'];
    const refusals = [
      ['PhoneTaken', 5002],
      ['WrongCodes', 5037],
      ['SendsRateLimited', 5058],
      ['TurnsMissed', 5058],
      ['CountryBreakerTrips', 5058],
      ['GlobalBreakerTrips', 5058],
      ['SmsFailures', 5059],
      ['SmsRefused', 5059],
      ['SmsOutcomeUnknown', 5059],
    ] as const;

    expect(notGraphed(outcomes.map((name) => ({ namespace: 'PhoneLink', name, dimensions: { service: 'phone-link' }, stat: 'Sum' })))).toEqual([]);
    expect(notGraphed(refusals.map(([name, code]) => ({ namespace: 'PhoneLink', name, dimensions: { service: 'phone-link' }, label: `${name} (${code})` })))).toEqual([]);
  });

  it('graphs the SMS spend, with the spend alarm\'s threshold drawn across it', () => {
    const tuned = widgetsOf(synthesize({ ...PROD_CONTEXT, smsSpendAlarmUsd: '42' }).template);
    const spendGraph = tuned.find((widget) => widget.properties.metrics?.some((line: unknown[]) => line[1] === 'SMSMonthToDateSpentUSD'));

    expect(notGraphed([{ namespace: 'AWS/SNS', name: 'SMSMonthToDateSpentUSD', dimensions: {}, stat: 'Maximum' }])).toEqual([]);
    expect(spendGraph?.properties.annotations.horizontal).toEqual([expect.objectContaining({ value: 42 })]);
  });

  it('graphs the API\'s latency and answers, and each function\'s duration, errors and throttles', () => {
    const [apiId] = Object.keys(prod.findResources('AWS::ApiGatewayV2::Api'));
    const functionIds = Object.keys(prod.findResources('AWS::Lambda::Function'));

    const api = [['Latency', 'p50'], ['Latency', 'p99'], ['4xx', 'Sum'], ['5xx', 'Sum']].map(([name, stat]) => ({
      namespace: 'AWS/ApiGateway',
      name,
      dimensions: { ApiId: `\${${apiId}}` },
      stat,
    }));
    const functions = functionIds.flatMap((id) =>
      [['Duration', 'p50'], ['Duration', 'p99'], ['Errors', 'Sum'], ['Throttles', 'Sum']].map(([name, stat]) => ({
        namespace: 'AWS/Lambda',
        name,
        dimensions: { FunctionName: `\${${id}}` },
        stat,
      })),
    );

    expect(functionIds).toHaveLength(ONE_ROUTE_PER_FUNCTION.length);
    expect(notGraphed([...api, ...functions])).toEqual([]);
  });

  it('graphs each table\'s throttles and consumed capacity', () => {
    const tables = Object.values(tableIds(prod)).flatMap((id) =>
      ['ReadThrottleEvents', 'WriteThrottleEvents', 'ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((name) => ({
        namespace: 'AWS/DynamoDB',
        name,
        dimensions: { TableName: `\${${id}}` },
        stat: 'Sum',
      })),
    );

    expect(tables).toHaveLength(8);
    expect(notGraphed(tables)).toEqual([]);
  });
});
