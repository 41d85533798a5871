import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { TABLE_ACTIONS } from '../../lib/constructs/api-function';
import { DEFAULT_THROTTLE } from '../../lib/phone-link-stack';
import { allStatements, arnOf, functionBehind, PROD_CONTEXT, refOf, statementsOf, synthesize, type Statement } from './synth';

const SEND = 'POST /v2/sms/enduserapi/v2/sendPhoneSmsCode';
const LINK = 'POST /v2/enduser/enduserapi/relationPhone';
const USER_INFO = 'GET /v2/enduser/enduserapi/userInfo';

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

let dev: Template;
let prod: Template;

beforeAll(() => {
  dev = synthesize().template;
  prod = synthesize(PROD_CONTEXT).template;
});

const environmentOf = (template: Template, routeKey: string): Record<string, unknown> =>
  functionBehind(template, routeKey).properties.Environment.Variables;

/** The logical id of the table a function's environment variable names. */
const tableNamedBy = (template: Template, routeKey: string, variable: string): string =>
  refOf(environmentOf(template, routeKey)[variable]);

const dynamoStatements = (statements: Statement[]): Statement[] =>
  statements.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));

/** DynamoDB actions a function is allowed on one table. */
const actionsOn = (template: Template, routeKey: string, tableId: string): string[] =>
  dynamoStatements(statementsOf(template, functionBehind(template, routeKey).id))
    .filter((statement) => statement.Effect === 'Allow' && statement.Resource.some((resource) => arnOf(resource) === tableId))
    .flatMap((statement) => statement.Action);

describe('HTTP API', () => {
  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])('%s serves exactly the three contract routes, and no /_local route', (_stage, template) => {
    const routeKeys = Object.values(template().findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey as string,
    );

    expect(routeKeys.sort()).toEqual([USER_INFO, LINK, SEND].sort());
    expect(routeKeys.filter((key) => key.includes('/_local'))).toEqual([]);
  });

  it('routes each path to its own function with payload format 2.0', () => {
    const functionIds = [SEND, LINK, USER_INFO].map((routeKey) => functionBehind(dev, routeKey).id);

    expect(new Set(functionIds).size).toBe(3);
    const integrations = Object.values(dev.findResources('AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(3);
    for (const integration of integrations) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('throttles the auto-deployed $default stage, with defaults unless context overrides them', () => {
    const overridden = synthesize({ throttleRateLimit: '5', throttleBurstLimit: '7' }).template;

    expect(Object.values(dev.findResources('AWS::ApiGatewayV2::Stage'))).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          StageName: '$default',
          AutoDeploy: true,
          DefaultRouteSettings: {
            ThrottlingRateLimit: DEFAULT_THROTTLE.rateLimit,
            ThrottlingBurstLimit: DEFAULT_THROTTLE.burstLimit,
          },
        }),
      }),
    ]);
    expect(Object.values(overridden.findResources('AWS::ApiGatewayV2::Stage'))[0]?.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 5,
      ThrottlingBurstLimit: 7,
    });
  });

  it('outputs the API URL', () => {
    expect(dev.findOutputs('ApiUrl')).toEqual({ ApiUrl: expect.objectContaining({ Value: expect.anything() }) });
  });
});

describe('functions', () => {
  it.each([
    ['dev', 7, () => dev],
    ['prod', 90, () => prod],
  ])('%s: Node.js 22 on arm64, 256 MB, 10 s, source maps, own log group kept %i days', (_stage, days, template) => {
    const functions = Object.values(template().findResources('AWS::Lambda::Function'));
    const logGroups = template().findResources('AWS::Logs::LogGroup');

    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 10,
        Handler: 'index.handler',
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
      const logGroupId = refOf(fn.Properties.LoggingConfig.LogGroup);
      expect(logGroups[logGroupId]?.Properties.RetentionInDays).toBe(days);
    }
  });

  it('gives each function only the settings it reads', () => {
    expect(Object.keys(environmentOf(prod, SEND)).sort()).toEqual(
      ['CODES_TABLE_NAME', 'CODE_PEPPER', 'NODE_OPTIONS', 'USERS_TABLE_NAME', 'USER_DOMAIN_SECRETS'].sort(),
    );
    expect(Object.keys(environmentOf(prod, LINK)).sort()).toEqual(
      ['CODES_TABLE_NAME', 'CODE_PEPPER', 'JWKS_URL', 'NODE_OPTIONS', 'USERS_TABLE_NAME'].sort(),
    );
    expect(Object.keys(environmentOf(prod, USER_INFO)).sort()).toEqual(
      ['CODES_TABLE_NAME', 'JWKS_URL', 'NODE_OPTIONS', 'USERS_TABLE_NAME'].sort(),
    );
    expect(environmentOf(prod, SEND)).toMatchObject({ CODE_PEPPER: 'x', USER_DOMAIN_SECRETS: '{"d":"s"}' });
    expect(environmentOf(prod, USER_INFO)).toMatchObject({ JWKS_URL: PROD_CONTEXT.jwksUrl });
  });

  it('passes overrides from context only to the functions that read them', () => {
    const template = synthesize({
      ...PROD_CONTEXT,
      jwtIssuer: 'https://login.example.com',
      domesticCallingCode: '+1',
      codeTtlSeconds: '120',
      codeMaxWrongTries: 3,
      smsCooldownSeconds: '0',
      smsMaxPerPhonePerDay: '4',
      smsMaxPerIpPerHour: '20',
      smsMaxPerMinute: '100',
      signatureMaxSkewSeconds: '300',
      nonceTtlSeconds: '900',
      smsSenderId: 'PhoneLink',
    }).template;
    const codeRules = { CODE_TTL_SECONDS: '120', CODE_MAX_WRONG_TRIES: '3', DOMESTIC_CALLING_CODE: '1' };

    expect(environmentOf(template, SEND)).toMatchObject({
      ...codeRules,
      SMS_COOLDOWN_SECONDS: '0',
      SMS_MAX_PER_PHONE_PER_DAY: '4',
      SMS_MAX_PER_IP_PER_HOUR: '20',
      SMS_MAX_PER_MINUTE: '100',
      SIGNATURE_MAX_SKEW_SECONDS: '300',
      NONCE_TTL_SECONDS: '900',
      SMS_SENDER_ID: 'PhoneLink',
    });
    expect(environmentOf(template, SEND)).not.toHaveProperty('JWT_ISSUER');
    expect(environmentOf(template, LINK)).toMatchObject({ ...codeRules, JWT_ISSUER: 'https://login.example.com' });
    expect(environmentOf(template, LINK)).not.toHaveProperty('SMS_MAX_PER_MINUTE');
    expect(environmentOf(template, USER_INFO)).toMatchObject({ JWT_ISSUER: 'https://login.example.com' });
    expect(environmentOf(template, USER_INFO)).not.toHaveProperty('CODE_TTL_SECONDS');
  });

  it('warns when dev placeholders stand in for secrets, and only then', () => {
    const placeholderWarnings = (context: Record<string, unknown>) =>
      Annotations.fromStack(synthesize(context).stack).findWarning('*', Match.stringLikeRegexp('placeholders'));

    expect(placeholderWarnings({})).toHaveLength(1);
    expect(placeholderWarnings(PROD_CONTEXT)).toHaveLength(0);
  });
});

describe('tables', () => {
  it('keeps codes in a pay-per-request table keyed by pk that expires items by their ttl attribute', () => {
    const codesTable = dev.toJSON().Resources[tableNamedBy(dev, SEND, 'CODES_TABLE_NAME')];

    expect(codesTable.Type).toBe('AWS::DynamoDB::Table');
    expect(codesTable.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('keeps users in a pay-per-request table keyed by pk with point-in-time recovery', () => {
    const usersTable = dev.toJSON().Resources[tableNamedBy(dev, USER_INFO, 'USERS_TABLE_NAME')];

    expect(usersTable.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('all functions name the same two tables', () => {
    const codes = tableNamedBy(dev, SEND, 'CODES_TABLE_NAME');
    const users = tableNamedBy(dev, USER_INFO, 'USERS_TABLE_NAME');

    expect(codes).not.toBe(users);
    for (const route of [SEND, LINK, USER_INFO]) {
      expect(tableNamedBy(dev, route, 'CODES_TABLE_NAME')).toBe(codes);
      expect(tableNamedBy(dev, route, 'USERS_TABLE_NAME')).toBe(users);
    }
    expect(Object.keys(dev.findResources('AWS::DynamoDB::Table')).sort()).toEqual([codes, users].sort());
  });

  it.each([
    ['prod', 'Retain', () => prod],
    ['dev', 'Delete', () => dev],
  ])('%s: tables and log groups have deletion policy %s', (_stage, policy, template) => {
    const kept = [
      ...Object.values(template().findResources('AWS::DynamoDB::Table')),
      ...Object.values(template().findResources('AWS::Logs::LogGroup')),
    ];

    expect(kept).toHaveLength(5);
    for (const resource of kept) {
      expect(resource).toMatchObject({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
    }
  });
});

describe('IAM', () => {
  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])('%s: no statement uses a wildcard action', (_stage, template) => {
    const actions = allStatements(template()).flatMap((statement) => statement.Action);

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('allows DynamoDB actions on the two tables only, and "*" only for sns:Publish', () => {
    const tables = Object.keys(prod.findResources('AWS::DynamoDB::Table'));
    const allows = allStatements(prod).filter((statement) => statement.Effect === 'Allow');

    for (const statement of dynamoStatements(allows)) {
      expect(statement.Action.every((action) => action.startsWith('dynamodb:'))).toBe(true);
      expect(statement.Resource.map(arnOf).filter((id) => id === undefined || !tables.includes(id))).toEqual([]);
    }
    const unscoped = allows.filter((statement) => statement.Resource.includes('*'));
    expect(unscoped.flatMap((statement) => statement.Action)).toEqual(['sns:Publish']);
  });

  it('lets userInfo read the users table and nothing else', () => {
    const users = tableNamedBy(prod, USER_INFO, 'USERS_TABLE_NAME');
    const codes = tableNamedBy(prod, USER_INFO, 'CODES_TABLE_NAME');
    const statements = statementsOf(prod, functionBehind(prod, USER_INFO).id);

    expect(actionsOn(prod, USER_INFO, users).sort()).toEqual([...TABLE_ACTIONS.RO].sort());
    expect(actionsOn(prod, USER_INFO, codes)).toEqual([]);
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions.filter((action) => WRITE_ACTIONS.includes(action) || action === 'dynamodb:ConditionCheckItem')).toEqual([]);
    expect(actions.filter((action) => !action.startsWith('dynamodb:'))).toEqual([]);
  });

  it('lets relationPhone read and write both tables (one transaction spans them)', () => {
    for (const variable of ['CODES_TABLE_NAME', 'USERS_TABLE_NAME']) {
      const actions = actionsOn(prod, LINK, tableNamedBy(prod, LINK, variable));

      expect(actions).toEqual(
        expect.arrayContaining(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
      );
    }
    const actions = statementsOf(prod, functionBehind(prod, LINK).id).flatMap((statement) => statement.Action);
    expect(actions.filter((action) => action.startsWith('sns:'))).toEqual([]);
  });

  it('lets sendPhoneSmsCode write the codes table, publish SMS, and not touch users or topics', () => {
    const codes = tableNamedBy(prod, SEND, 'CODES_TABLE_NAME');
    const users = tableNamedBy(prod, SEND, 'USERS_TABLE_NAME');
    const statements = statementsOf(prod, functionBehind(prod, SEND).id);

    expect(actionsOn(prod, SEND, codes)).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
    );
    expect(actionsOn(prod, SEND, users)).toEqual([]);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Allow', Action: ['sns:Publish'], Resource: ['*'] }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: ['sns:Publish'],
          Resource: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] }],
        }),
      ]),
    );
  });
});
