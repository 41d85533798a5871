import { Annotations, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
// Pure data shared with the local server and the tests: the same key schema everywhere.
import { codesTable, usersTable, type TableDefinition } from '../functions/adapters/dynamodb/table-definitions';
import { ApiFunction } from './constructs/api-function';
import type { StageConfig, ThrottleConfig } from './stage-config';

export interface PhoneLinkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Stage-wide API Gateway throttling unless context overrides it. */
export const DEFAULT_THROTTLE: ThrottleConfig = { rateLimit: 50, burstLimit: 100 };

export const ROUTES = {
  sendPhoneSmsCode: { method: HttpMethod.POST, path: '/v2/sms/enduserapi/v2/sendPhoneSmsCode' },
  relationPhone: { method: HttpMethod.POST, path: '/v2/enduser/enduserapi/relationPhone' },
  userInfo: { method: HttpMethod.GET, path: '/v2/enduser/enduserapi/userInfo' },
} as const;

/**
 * The phone-link API: two DynamoDB tables, one Lambda function per route and
 * an HTTP API in front. Only the contract's routes are deployed; the local
 * server's /_local routes never are.
 */
export class PhoneLinkStack extends Stack {
  readonly api: HttpApi;
  readonly codesTable: Table;
  readonly usersTable: Table;

  constructor(scope: Construct, id: string, props: PhoneLinkStackProps) {
    super(scope, id, props);
    const { config } = props;
    const isProd = config.stage === 'prod';
    // Prod data outlives a deleted stack; dev stacks clean up after themselves.
    const removalPolicy = isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    if (config.usesPlaceholders) {
      Annotations.of(this).addWarningV2(
        'phone-link:placeholders',
        'Dev placeholders stand in for codePepper/userDomainSecrets/jwksUrl: signed requests and tokens will not verify. ' +
          'Pass -c codePepper=... -c userDomainSecrets=... -c jwksUrl=... for a usable deployment.',
      );
    }

    // Codes, used nonces and send counters: short-lived, expired by TTL, nothing worth restoring.
    this.codesTable = this.table('CodesTable', codesTable, removalPolicy, false);
    // Users and phone claims: the data that matters, so point-in-time recovery.
    this.usersTable = this.table('UsersTable', usersTable, removalPolicy, true);

    const functionDefaults = {
      logRetention: isProd ? RetentionDays.THREE_MONTHS : RetentionDays.ONE_WEEK,
      logRemovalPolicy: removalPolicy,
    };

    // Each function gets only the variables functions/config.ts reads for it.
    // Secrets sit in plain environment variables for now; a later issue moves them to Secrets Manager.
    const codeRules = {
      CODE_PEPPER: config.secrets.codePepper,
      CODE_TTL_SECONDS: optionalNumber(config.code.ttlSeconds),
      CODE_MAX_WRONG_TRIES: optionalNumber(config.code.maxWrongTries),
      DOMESTIC_CALLING_CODE: config.code.domesticCallingCode,
    };
    const auth = { JWKS_URL: config.auth.jwksUrl, JWT_ISSUER: config.auth.issuer };

    const sendPhoneSmsCode = new ApiFunction(this, 'SendPhoneSmsCode', {
      ...functionDefaults,
      entry: 'send-phone-sms-code.ts',
      description: `${routeKey(ROUTES.sendPhoneSmsCode)} (${config.stage})`,
    })
      .bindTable(this.codesTable, 'CODES_TABLE_NAME', 'RW')
      .addEnvironment({
        ...codeRules,
        SMS_COOLDOWN_SECONDS: optionalNumber(config.sendLimits.cooldownSeconds),
        SMS_MAX_PER_PHONE_PER_DAY: optionalNumber(config.sendLimits.maxPerPhonePerDay),
        SMS_MAX_PER_IP_PER_HOUR: optionalNumber(config.sendLimits.maxPerIpPerHour),
        SMS_MAX_PER_MINUTE: optionalNumber(config.sendLimits.maxPerMinute),
        USER_DOMAIN_SECRETS: config.secrets.userDomainSecrets,
        SIGNATURE_MAX_SKEW_SECONDS: optionalNumber(config.signature.maxSkewSeconds),
        NONCE_TTL_SECONDS: optionalNumber(config.signature.nonceTtlSeconds),
        SMS_SENDER_ID: config.smsSenderId,
        // Name only, no grant: functions/entry/wiring.ts reads both table names
        // (readTablesConfig) even though this function never touches users.
        USERS_TABLE_NAME: this.usersTable.tableName,
      });
    sendPhoneSmsCode.function.addToRolePolicy(
      // SMS straight to a phone number has no resource ARN, so '*' is the only resource that works.
      new PolicyStatement({ sid: 'SendSmsToPhoneNumbers', actions: ['sns:Publish'], resources: ['*'] }),
    );
    sendPhoneSmsCode.function.addToRolePolicy(
      // ...and publishing to topics, which do have ARNs, is ruled out.
      new PolicyStatement({
        sid: 'NoPublishToTopics',
        effect: Effect.DENY,
        actions: ['sns:Publish'],
        resources: [`arn:${this.partition}:sns:*:*:*`],
      }),
    );

    // Links atomically across both tables (TransactWriteItems) after one BatchGetItem over both.
    const relationPhone = new ApiFunction(this, 'RelationPhone', {
      ...functionDefaults,
      entry: 'relation-phone.ts',
      description: `${routeKey(ROUTES.relationPhone)} (${config.stage})`,
    })
      .bindTable(this.codesTable, 'CODES_TABLE_NAME', 'RW')
      .bindTable(this.usersTable, 'USERS_TABLE_NAME', 'RW')
      .addEnvironment({ ...codeRules, ...auth });

    const userInfo = new ApiFunction(this, 'UserInfo', {
      ...functionDefaults,
      entry: 'user-info.ts',
      description: `${routeKey(ROUTES.userInfo)} (${config.stage})`,
    })
      .bindTable(this.usersTable, 'USERS_TABLE_NAME', 'RO')
      .addEnvironment({
        ...auth,
        // Name only, no grant: see the note on SendPhoneSmsCode.
        CODES_TABLE_NAME: this.codesTable.tableName,
      });

    // The default stage is made here rather than by HttpApi, which cannot throttle it.
    this.api = new HttpApi(this, 'Api', {
      apiName: `phone-link-${config.stage}`,
      description: `Phone-link end-user API (${config.stage})`,
      createDefaultStage: false,
    });
    const throttle = { ...DEFAULT_THROTTLE, ...definedOnly(config.throttle ?? {}) };
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
    });

    const routes: ReadonlyArray<[{ method: HttpMethod; path: string }, ApiFunction]> = [
      [ROUTES.sendPhoneSmsCode, sendPhoneSmsCode],
      [ROUTES.relationPhone, relationPhone],
      [ROUTES.userInfo, userInfo],
    ];
    for (const [route, fn] of routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(`${fn.node.id}Integration`, fn.function, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'Base URL of the phone-link API' });
  }

  private table(id: string, definition: TableDefinition, removalPolicy: RemovalPolicy, pointInTimeRecovery: boolean): Table {
    return new Table(this, id, {
      partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: definition.timeToLiveAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pointInTimeRecovery },
      removalPolicy,
    });
  }
}

const routeKey = (route: { method: HttpMethod; path: string }): string => `${route.method} ${route.path}`;

const optionalNumber = (value: number | undefined): string | undefined => (value === undefined ? undefined : String(value));

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
