import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnApi,
  type CfnRoute,
  type CfnStage,
  CorsHttpMethod,
  DomainName,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AttributeType,
  Billing,
  BillingMode,
  type ITable,
  MultiRegionConsistency,
  Table,
  TableEncryption,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, ManagedPolicy, Policy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
// Pure data shared with the local server and the tests: the same key schema everywhere.
import { codesTable, multiRegionUsersTable, usersTable, type TableDefinition } from '../functions/adapters/dynamodb/table-definitions';
import {
  FUNCTION_NAMES,
  FUNCTIONS,
  ROUTE_NAMES,
  ROUTES,
  routeKey,
  routesServedBy,
  type FunctionDefinition,
  type FunctionName,
  type RouteDefinition,
  type RouteName,
} from '../functions/http/routes';
import { ApiFunction, type TableAccess } from './constructs/api-function';
import { ServiceAlarms } from './constructs/service-alarms';
import { ServiceDashboard } from './constructs/service-dashboard';
import { ServiceMetrics } from './service-metrics';
import {
  BINDINGS,
  CODE_SETTINGS,
  SEND_LIMITS,
  SIGNATURE_SETTINGS,
  SMS_SENDER,
  STORAGE,
  TOKEN_KEYS,
  USERS,
  type PhoneLinksMode,
  type Tunable,
  type TunablesOf,
} from '../functions/tunables';
import { type MultiRegionSettings, type Overrides, type StageConfig, stackName, type ThrottleConfig } from './stage-config';

export interface PhoneLinkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The global users table's name: the same in every region, so each region's stack finds it. */
export const globalUsersTableName = (config: Pick<StageConfig, 'stage'>): string => `phone-link-${config.stage}-users`;

/**
 * The stacks of a deployment: one, in the deploying credentials' region;
 * or, with multi-region settings, one per region, the first (which creates
 * the global users table) before the others.
 */
export function addPhoneLinkStacks(scope: Construct, config: StageConfig, props: Omit<PhoneLinkStackProps, 'config' | 'env'> = {}): PhoneLinkStack[] {
  if (!config.multiRegion) return [new PhoneLinkStack(scope, stackName(config.stage), { ...props, config })];
  const [primaryRegion, ...replicaRegions] = config.multiRegion.regions;
  const primary = new PhoneLinkStack(scope, stackName(config.stage), { ...props, config, env: { region: primaryRegion } });
  const replicas = replicaRegions.map((region) => {
    const replica = new PhoneLinkStack(scope, `${stackName(config.stage)}-${region}`, { ...props, config, env: { region } });
    replica.addStackDependency(primary, 'the global users table is created with its replicas by the first region');
    return replica;
  });
  return [primary, ...replicas];
}

/**
 * One JSON object per request. Only the path and route key, never the query
 * string: parameters travel there (codes, phone numbers, signatures), so
 * $context.requestUri and friends are deliberately absent.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
} as const;

/**
 * The execute-api resource path of a route as IAM sees a request: each path
 * parameter becomes `*`. (IAM's `*` also matches `/`, so `{uid}` -> `*`
 * reaches deeper paths too; every admin path starts with the literal
 * /admin/v1/users/, which keeps the grant inside the admin interface.)
 */
export const invokePath = (route: Pick<RouteDefinition, 'path'>): string => route.path.replace(/\{[^}]+\}/g, '*');

/**
 * The phone-link API: two DynamoDB tables, two secrets, one Lambda function
 * per contract route and one for the admin interface behind an HTTP API,
 * access logs, alarms and a dashboard. Each function gets exactly the
 * tables, secrets and settings it reads.
 */
export class PhoneLinkStack extends Stack {
  readonly api: HttpApi;
  readonly codesTable: Table;
  /** Regional, or (multi-region) the global table created by the primary stack. */
  readonly usersTable: ITable;
  readonly codePepperSecret: Secret;
  readonly userDomainSecrets: ISecret;
  readonly functions: readonly ApiFunction[];
  /** Allows invoking the admin routes (and only those): for the login service's role and operators. */
  readonly adminPolicy: ManagedPolicy;
  readonly alarms: ServiceAlarms;
  readonly dashboard: ServiceDashboard;

  private readonly config: StageConfig;
  private readonly isProd: boolean;

  constructor(scope: Construct, id: string, props: PhoneLinkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.isProd = config.stage === 'prod';

    if (config.placeholders.length > 0) {
      Annotations.of(this).addWarningV2(
        'phone-link:placeholders',
        `Dev placeholders stand in for ${config.placeholders.join(', ')}: tokens will not verify and no user domain is served. ` +
          'Pass -c jwksUrl=... -c userDomains=... for a usable deployment (docs/DEPLOY.md).',
      );
    }
    if (this.isProd && config.alarms.email === undefined && config.alarms.topicArn === undefined) {
      Annotations.of(this).addWarningV2(
        'phone-link:alarms-unrouted',
        'No alarmEmail or alarmTopicArn: the alarms will show in the CloudWatch console but notify nobody.',
      );
    }

    // Codes, used nonces and send counters: nothing in it outlives a day, so
    // no backups and nothing worth keeping when the stack goes.
    this.codesTable = this.table('CodesTable', codesTable, { keep: false });
    Validations.of(this.codesTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'No point-in-time recovery for the codes table: every item expires by TTL within a day (codes 5 minutes, used nonces ' +
        '20 minutes, send counters a day), so a restore could only bring back void codes and stale counters.',
    });
    // Users and phone claims: the data that matters.
    this.usersTable = config.multiRegion ? this.globalUsersTable(config.multiRegion) : this.table('UsersTable', usersTable, { keep: true });

    // HMAC key of the stored codes. Generated by Secrets Manager, so the value
    // never appears in the template, the CLI or the environment. Losing it
    // voids only codes in flight (5 minutes), so it goes with the stack.
    this.codePepperSecret = new Secret(this, 'CodePepperSecret', {
      description: `phone-link ${config.stage}: HMAC key of stored verification codes (generated; never shown)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.codePepperSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not rotated: a new pepper would void every code in flight, and nothing long-lived is derived from it (codes live 5 minutes). ' +
        'Replace it by hand if it may have leaked.',
    });
    this.userDomainSecrets = this.userDomainSecretsSecret();

    // Each function is told only the tunables it reads, and of those only the ones the stage sets: the functions apply the registry's defaults.
    const { code, sendLimits, signature, sms, users } = config;
    const codeSettings = environment(CODE_SETTINGS, code);
    // An unlink checks a code against the phone already linked: no number to judge, so no country allow-list.
    const codeChecks = environment(CODE_SETTINGS, code, ['codeTtlSeconds', 'maxWrongTries', 'domesticCallingCode']);
    const auth = { ...variable(TOKEN_KEYS.jwksUrl, config.auth.jwksUrl), ...variable(TOKEN_KEYS.issuer, config.auth.issuer) };
    // Only the functions that answer a signed-in user need to know whether a valid token is enough.
    const provisioning = variable(USERS.provisioning, users.provisioning);
    // Global tables with strong consistency refuse transactions: the functions that change links write step by step,
    // so they need no condition checks (only transactions make them), and an ordered unlink puts nothing.
    const mode: PhoneLinksMode = config.multiRegion ? 'ordered-writes' : STORAGE.phoneLinksMode.default;
    const linksMode = variable(STORAGE.phoneLinksMode, mode === STORAGE.phoneLinksMode.default ? undefined : mode);
    const linking = (transactions: TableAccess, orderedWrites: TableAccess): TableAccess => (config.multiRegion ? orderedWrites : transactions);
    const { codePepper, userDomainSecrets } = BINDINGS;

    // What each function is granted and told, beyond what every function gets: the compiler asks for every function of the table.
    const bindings: { readonly [F in FunctionName]: (fn: ApiFunction) => void } = {
      // A send only writes: the nonce, the code and the counters in one transaction (and takes them back if SNS refuses).
      sendPhoneSmsCode: (fn) => {
        fn.bindTable(this.codesTable, BINDINGS.codesTable, 'WRITE')
          .bindSecret(this.codePepperSecret, codePepper.secretArn)
          .bindSecret(this.userDomainSecrets, userDomainSecrets.secretArn)
          .addEnvironment({
            ...codeSettings,
            ...environment(SEND_LIMITS, sendLimits),
            ...environment(SIGNATURE_SETTINGS, { ...signature, userDomains: config.userDomains }),
            ...environment(SMS_SENDER, sms),
          });
        this.allowSmsToPhoneNumbers(fn);
      },
      // Links across both tables after one BatchGetItem over both: in one TransactWriteItems, or in ordered single-item writes (multi-Region).
      relationPhone: (fn) =>
        fn
          .bindTable(this.codesTable, BINDINGS.codesTable, linking('RW', 'RW_SINGLE'))
          .bindTable(this.usersTable, BINDINGS.usersTable, linking('RW', 'RW_SINGLE'))
          .bindSecret(this.codePepperSecret, codePepper.secretArn)
          .addEnvironment({ ...codeSettings, ...auth, ...provisioning, ...linksMode }),
      userInfo: (fn) => fn.bindTable(this.usersTable, BINDINGS.usersTable, 'RO').addEnvironment({ ...auth, ...provisioning }),
      // Unlinks across both tables as relationPhone links, after reading the user and the code item by item.
      deletePhoneRelation: (fn) =>
        fn
          .bindTable(this.codesTable, BINDINGS.codesTable, linking('ITEM_RW', 'ITEM_CHANGE'))
          .bindTable(this.usersTable, BINDINGS.usersTable, linking('ITEM_RW', 'ITEM_CHANGE'))
          .bindSecret(this.codePepperSecret, codePepper.secretArn)
          .addEnvironment({ ...codeChecks, ...auth, ...provisioning, ...linksMode }),
      // The admin interface: no codes, no secret, no token (IAM authenticates
      // the caller). It reads a user, registers with a Put, and links and
      // erases on the users table alone, as relationPhone links.
      admin: (fn) =>
        fn.bindTable(this.usersTable, BINDINGS.usersTable, linking('ITEM_RW', 'ITEM_RW_SINGLE')).addEnvironment({
          ...environment(CODE_SETTINGS, code, ['domesticCallingCode']),
          ...variable(USERS.erasedRetentionDays, users.erasedRetentionDays),
          ...linksMode,
        }),
      linkReconciler: (fn) => this.scheduleLinkReconciler(fn),
    };
    const deployed = FUNCTION_NAMES.filter((name) => {
      const only: string | undefined = (FUNCTIONS[name] as FunctionDefinition).onlyWithLinks;
      return only === undefined || only === mode;
    });
    const functions = new Map(deployed.map((name) => [name, this.apiFunction(name)] as const));
    for (const [name, fn] of functions) bindings[name](fn);
    this.functions = [...functions.values()];

    const { api, stage } = this.httpApi(functions);
    this.api = api;
    this.adminPolicy = this.adminInvokePolicy(api, stage);

    // One definition of each metric, for the alarms and the dashboard alike.
    const metrics = new ServiceMetrics({ api: this.api, functions: this.functions, tables: [this.codesTable, this.usersTable] });
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      metrics,
      thresholds: config.alarms,
      topics: this.alarmTopics(),
      namePrefix: this.stackName,
    });
    this.dashboard = new ServiceDashboard(this, 'Dashboard', { metrics, alarms: this.alarms.alarms, dashboardName: this.stackName });

    const domain = config.api.customDomain;
    new CfnOutput(this, 'ApiUrl', {
      value: domain ? `https://${domain.domainName}/` : stage.url,
      description: 'Base URL of the phone-link API',
    });
    new CfnOutput(this, 'AdminPolicyArn', {
      value: this.adminPolicy.managedPolicyArn,
      description:
        "Attach to the login service's role and to the operators' roles that call the admin interface: it allows invoking " +
        'the four /admin/v1/users routes of this API, nothing else',
    });
  }

  /**
   * A function of the table, named by its construct id (`RelationPhone`) and
   * described by its purpose and routes; the stage's log retention, tracing
   * choice and removal policy.
   */
  private apiFunction(name: FunctionName): ApiFunction {
    const { entry, purpose, everyMinutes } = FUNCTIONS[name] as FunctionDefinition;
    const schedule = everyMinutes === undefined ? undefined : everyMinutes === 1 ? 'every minute' : `every ${everyMinutes} minutes`;
    const serves = [purpose, ...routesServedBy(name).map((route) => routeKey(ROUTES[route])), schedule].filter((part) => part !== undefined);
    return new ApiFunction(this, name.charAt(0).toUpperCase() + name.slice(1), {
      entry,
      description: `${serves.join(', ')} (${this.config.stage})`,
      logRetention: this.isProd ? RetentionDays.THREE_MONTHS : RetentionDays.ONE_WEEK,
      // Prod logs outlive a deleted stack (an investigation may need them); their retention still applies.
      logRemovalPolicy: this.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      tracing: this.config.tracing,
    });
  }

  /**
   * The users table as a global table with multi-Region strong consistency:
   * created with its replicas and witness by the stack of the first region,
   * found by name by the others. No TTL (MRSC has none): the reconciler
   * removes erased users' tombstones through the table's index of due items.
   */
  private globalUsersTable({ regions, witnessRegion }: MultiRegionSettings): ITable {
    const tableName = globalUsersTableName(this.config);
    const [primaryRegion, ...replicaRegions] = regions;
    if (Token.isUnresolved(this.region)) throw new Error('A multi-region stack needs its region (env.region): use addPhoneLinkStacks');
    if (this.region !== primaryRegion) return TableV2.fromTableName(this, 'UsersTable', tableName);
    const table = new TableV2(this, 'GlobalUsersTable', {
      tableName,
      partitionKey: { name: multiRegionUsersTable.partitionKey, type: AttributeType.STRING },
      globalSecondaryIndexes: (multiRegionUsersTable.globalIndexes ?? []).map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.NUMBER },
      })),
      billing: Billing.onDemand(),
      multiRegionConsistency: MultiRegionConsistency.STRONG,
      replicas: replicaRegions.map((region) => ({ region })),
      witnessRegion,
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: this.isProd,
      removalPolicy: this.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Bound by name (a reference, so the functions still come after it), as the other regions bind it:
    // grants on the table alone, never on its index (TableV2.grant would add <arn>/index/*), which only
    // the reconciler queries.
    // Named as in the single-region stack: the alarms and the dashboard go by this id (UsersTableThrottles).
    return TableV2.fromTableAttributes(this, 'UsersTable', { tableName: table.tableName });
  }

  /**
   * Finishes or rolls back what a crash left half-done (an operation still
   * pending after its grace time) and removes tombstones past their
   * retention, every minute, in every region: any region left standing does it.
   */
  private scheduleLinkReconciler(reconciler: ApiFunction): void {
    reconciler.bindTable(this.usersTable, BINDINGS.usersTable, 'ITEM_CHANGE');
    const dueIndexes = (multiRegionUsersTable.globalIndexes ?? []).map((index) => `${this.usersTable.tableArn}/index/${index.indexName}`);
    reconciler.function.addToRolePolicy(new PolicyStatement({ sid: 'FindDueItems', actions: ['dynamodb:Query'], resources: dueIndexes }));
    new Rule(this, 'ReconcileSchedule', {
      description: `phone-link ${this.config.stage}: run the link reconciler`,
      schedule: Schedule.rate(Duration.minutes(FUNCTIONS.linkReconciler.everyMinutes)),
      targets: [new LambdaFunction(reconciler.function, { retryAttempts: 0 })],
    });
  }

  private table(id: string, definition: TableDefinition, { keep }: { keep: boolean }): Table {
    // Only prod data is kept: dev stacks clean up after themselves.
    const keepInThisStage = keep && this.isProd;
    return new Table(this, id, {
      partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: definition.timeToLiveAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      // Encrypted at rest with the AWS-managed key aws/dynamodb: auditable in
      // CloudTrail, and the functions need no KMS grant.
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: keep },
      deletionProtection: keepInThisStage,
      removalPolicy: keepInThisStage ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /**
   * JSON `{"<userDomain>": "<secret>"}`: an existing secret (context
   * userDomainSecretsArn), or one created here whose value the operator puts
   * in after the first deploy. Its initial value is `{"_unset": <random>}`, so
   * no served domain has a secret and sends fail fast until it is set.
   */
  private userDomainSecretsSecret(): ISecret {
    const existingArn = this.config.userDomainSecretsArn;
    if (existingArn !== undefined) {
      new CfnOutput(this, 'UserDomainSecretsArn', { value: existingArn, description: 'User-domain secrets (existing secret)' });
      return Secret.fromSecretCompleteArn(this, 'UserDomainSecrets', existingArn);
    }
    const secret = new Secret(this, 'UserDomainSecrets', {
      description: `phone-link ${this.config.stage}: JSON {"<userDomain>": "<secret>"} of the app signatures; set with put-secret-value`,
      // A generated placeholder key: a value of our own would sit in the template.
      generateSecretString: { secretStringTemplate: JSON.stringify({}), generateStringKey: '_unset', excludePunctuation: true },
      // The operator's values are in it: keep them in prod if the stack goes.
      removalPolicy: this.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not rotatable by us: each value is the signing secret of a user domain, issued by the platform and built into the app ' +
        'that signs sendPhoneSmsCode requests. It changes when the platform re-issues it, via put-secret-value.',
    });
    new CfnOutput(this, 'UserDomainSecretsArn', {
      value: secret.secretArn,
      description: 'Set the user-domain secrets: aws secretsmanager put-secret-value --secret-id <this> --secret-string \'{"<userDomain>":"<secret>"}\'',
    });
    return secret;
  }

  /** SMS straight to a phone number, and nothing else SNS can publish to. */
  private allowSmsToPhoneNumbers(fn: ApiFunction): void {
    const policy = new Policy(fn, 'SmsPolicy', {
      roles: [fn.role],
      statements: [
        // A phone number has no ARN, so '*' is the only resource that allows SMS.
        new PolicyStatement({ sid: 'SendSmsToPhoneNumbers', actions: ['sns:Publish'], resources: ['*'] }),
        // ...and publishing to topics and platform endpoints, which do have ARNs, is ruled out.
        new PolicyStatement({
          sid: 'NoPublishToTopics',
          effect: Effect.DENY,
          actions: ['sns:Publish'],
          resources: [`arn:${this.partition}:sns:*:*:*`],
        }),
      ],
    });
    // No request may reach the function before it can send.
    fn.function.node.addDependency(policy);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:Publish with PhoneNumber has no resource ARN, so "*" is the only resource that permits SMS; a Deny in the same ' +
        'policy removes every topic and endpoint ARN, leaving only direct SMS.',
    });
  }

  /**
   * Every route of the table to its function: the contract's with no gateway
   * authorizer, the admin interface's behind IAM; the $default stage:
   * throttled (the send route more tightly than the rest), access-logged
   * without query strings, optionally on a custom domain.
   */
  private httpApi(functions: ReadonlyMap<FunctionName, ApiFunction>): { api: HttpApi; stage: HttpStage } {
    const { api: settings, stage: stageName } = this.config;
    const domain = settings.customDomain;
    const api = new HttpApi(this, 'Api', {
      apiName: `phone-link-${stageName}`,
      description: `Phone-link end-user API (${stageName})`,
      // The default stage is made below: HttpApi's own cannot be throttled or logged.
      createDefaultStage: false,
      // With a custom domain, that is the only way in (its TLS policy, its logs).
      disableExecuteApiEndpoint: domain !== undefined,
      corsPreflight: settings.corsAllowedOrigins && {
        allowOrigins: [...settings.corsAllowedOrigins],
        // The methods of the routes a browser app calls (the admin interface's take SigV4, from servers).
        allowMethods: CORS_METHODS.filter((method) => ROUTE_NAMES.some((name) => ROUTES[name].authorization !== 'iam' && ROUTES[name].method === method)),
        allowHeaders: ['authorization', 'content-type', 'x-q-language', 'accept-language', 'appid', 'appversion', 'appsystemtype', 'quec-random-url'],
        maxAge: Duration.days(1),
      },
    });

    // One integration per function, whatever its number of routes: the admin function dispatches on event.routeKey.
    const integrations = new Map(
      [...functions].map(([name, fn]) => [
        name,
        new HttpLambdaIntegration(`${fn.node.id}Integration`, fn.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 }),
      ]),
    );
    // SigV4-signed requests by a principal allowed execute-api:Invoke on the route
    // (the AdminPolicy output); API Gateway answers 403 to anyone else, before any function runs.
    const iam = new HttpIamAuthorizer();
    const httpRoutes = new Map<RouteName, HttpRoute>();
    for (const name of ROUTE_NAMES) {
      const route = ROUTES[name];
      const integration = integrations.get(route.function);
      if (integration === undefined) throw new Error(`${name}: its function ${route.function} is not deployed`);
      const [httpRoute] = api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        ...(route.authorization === 'iam' ? { authorizer: iam } : {}),
      });
      if (httpRoute !== undefined) httpRoutes.set(name, httpRoute);
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The admin routes (/admin/v1/users/...) use AWS IAM authorization. The contract routes authorize in the functions, as ' +
        'the contract requires: relationPhone, userInfo and deletePhoneRelation verify ' +
        'the RS256/ES256 JWT against the JWKS in middleware (and must answer the platform codes 5106/5032 in the envelope, ' +
        'which an API Gateway authorizer cannot); sendPhoneSmsCode has no user yet and is authenticated by the app signature ' +
        '(SHA-256 over the parameters and the user-domain secret, with a single-use nonce and a 10-minute clock window).',
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: this.isProd ? RetentionDays.THREE_MONTHS : RetentionDays.ONE_WEEK,
      removalPolicy: this.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const domainName = domain && this.customDomain(domain.domainName, domain.certificateArn);
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { ...settings.throttle },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: domainName && { domainName },
    });
    const sendRoute = httpRoutes.get('sendPhoneSmsCode');
    if (sendRoute === undefined) throw new Error(`No route ${routeKey(ROUTES.sendPhoneSmsCode)} to throttle`);
    throttleRoute(stage, sendRoute, settings.sendThrottle);
    return { api, stage };
  }

  /**
   * execute-api:Invoke on exactly the admin routes of the $default stage:
   * one resource per route (method and path), with `*` for `{uid}`. Not
   * attached to anything here: the login service's role and operators get it.
   */
  private adminInvokePolicy(api: HttpApi, stage: HttpStage): ManagedPolicy {
    const policy = new ManagedPolicy(this, 'AdminPolicy', {
      description: `phone-link ${this.config.stage}: call the admin interface (/admin/v1/users/...) of this API, and nothing else`,
      statements: [
        new PolicyStatement({
          sid: 'InvokeAdminRoutes',
          actions: ['execute-api:Invoke'],
          resources: IAM_ROUTES.map((route) => api.arnForExecuteApi(route.method, invokePath(route), stage.stageName)),
        }),
      ],
    });
    // One acknowledgement per resource, named as cdk-nag names the finding
    // (the ARN with <Ref>s): any other wildcard in this policy is still flagged.
    const apiRef = `<${this.resolve((api.node.defaultChild as CfnApi).logicalId)}>`;
    // A stack pinned to its region (multi-region) has it written out in the ARN.
    const region = Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region;
    for (const route of IAM_ROUTES) {
      const arn = `arn:<AWS::Partition>:execute-api:${region}:<AWS::AccountId>:${apiRef}/${stage.stageName}/${route.method}${invokePath(route)}`;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason:
          `The "*" stands for the {uid} of ${routeKey(route)}: IAM matches the request's own path, so allowing the route for ` +
          'every user needs a wildcard there. The API, the $default stage, the method and the /admin/v1/users/ prefix are fixed, ' +
          'so no contract route (under /v2/) can match.',
      });
    }
    return policy;
  }

  private customDomain(name: string, certificateArn: string): DomainName {
    const domainName = new DomainName(this, 'CustomDomain', {
      domainName: name,
      certificate: Certificate.fromCertificateArn(this, 'Certificate', certificateArn),
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    new CfnOutput(this, 'CustomDomainTarget', {
      value: domainName.regionalDomainName,
      description: `Point ${name} here: a CNAME, or a Route 53 alias (hosted zone: CustomDomainHostedZoneId)`,
    });
    new CfnOutput(this, 'CustomDomainHostedZoneId', { value: domainName.regionalHostedZoneId, description: 'For a Route 53 alias record' });
    return domainName;
  }

  /** A topic with the alarm email subscribed, and/or an existing topic. */
  private alarmTopics(): ITopic[] {
    const { email, topicArn } = this.config.alarms;
    const topics: ITopic[] = [];
    if (email !== undefined) {
      // Not KMS-encrypted: notifications carry alarm names and numbers, no user data, and CloudWatch could
      // publish to an encrypted topic only under a customer-managed key of our own.
      const topic = new Topic(this, 'AlarmTopic', { displayName: `phone-link ${this.config.stage} alarms`, enforceSSL: true });
      topic.addSubscription(new EmailSubscription(email));
      // enforceSSL gives the topic a policy of its own, which replaces the default one: CloudWatch must be let in again.
      topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*` },
            StringEquals: { 'aws:SourceAccount': this.account },
          },
        }),
      );
      new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn, description: `Alarms; ${email} must confirm the subscription email` });
      topics.push(topic);
    }
    if (topicArn !== undefined) topics.push(Topic.fromTopicArn(this, 'ExistingAlarmTopic', topicArn));
    return topics;
  }
}

/**
 * A route's own throttle, in the stage's RouteSettings (keyed by route key),
 * which HttpStage does not expose. The stage's own throttle stays in its
 * DefaultRouteSettings for every other route.
 */
function throttleRoute(stage: HttpStage, route: HttpRoute, throttle: ThrottleConfig): void {
  const cfnStage = stage.node.defaultChild as CfnStage;
  const cfnRoute = route.node.defaultChild as CfnRoute;
  cfnStage.routeSettings = {
    ...(cfnStage.routeSettings as Record<string, unknown> | undefined),
    [cfnRoute.routeKey]: { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
  };
  // CloudFormation refuses settings for a route that does not exist yet ("Unable to find Route by key").
  cfnStage.addResourceDependency(cfnRoute);
}

/** The routes API Gateway authorizes with IAM: the admin interface. */
const IAM_ROUTES = ROUTE_NAMES.map((name) => ROUTES[name]).filter((route) => route.authorization === 'iam');

const CORS_METHODS = [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE] as const;

/** A tunable's variable when the stage sets it; left out, the function applies the registry's default. */
function variable<T>(tunable: Tunable<T>, value: NonNullable<T> | undefined): Record<string, string> {
  return value === undefined ? {} : { [tunable.env]: tunable.rule.format(value) };
}

/** The variables of a group's tunables that the stage sets: of `fields` only, where a function reads no more. */
function environment<T>(group: TunablesOf<T>, values: Overrides<T>, fields: readonly (keyof T)[] = Object.keys(group) as (keyof T)[]): Record<string, string> {
  return Object.assign({}, ...fields.map((field) => variable(group[field], values[field] as NonNullable<T[keyof T]> | undefined))) as Record<string, string>;
}
