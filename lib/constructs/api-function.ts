import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_MS } from '../../functions/request-budget';
import { BINDINGS, POWERTOOLS, type LogLevel } from '../../functions/tunables';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry';

/** Where the Lambda entry points live; each exports `handler`. */
export const ENTRY_DIR = path.join(__dirname, '..', '..', 'functions', 'entry');

export const RUNTIME = Runtime.NODEJS_22_X;

/**
 * How every function is bundled (esbuild, through NodejsFunction). Exported
 * so that `npm run bench` builds and measures exactly what deploys.
 */
export const BUNDLING: BundlingOptions = {
  // ESM: top-level await is available and esbuild tree-shakes ESM best.
  format: OutputFormat.ESM,
  // Prefer packages' ESM builds where they ship both, for tree-shaking.
  // (Nothing bundled calls require(), so the bundle needs no createRequire banner.)
  mainFields: ['module', 'main'],
  minify: true,
  // No keepNames: it wraps every function and class in a name-setting call
  // that each cold start pays for (docs/PERFORMANCE.md). Error names are set
  // explicitly, and the .map beside each bundle decodes stack traces.
  keepNames: false,
  sourceMap: true,
  // The map only needs line mappings; leaving sources out keeps the bundle small.
  sourcesContent: false,
  // Stand-ins (functions/bundling/, each says why): middy imports
  // node:stream/web only for response streaming, unused here, and every SDK
  // client imports the whole default credential chain, where Lambda needs
  // only the environment's credentials.
  esbuildArgs: {
    '--alias': [
      'node:stream/web=./functions/bundling/stream-web.ts',
      '@aws-sdk/credential-provider-node=./functions/bundling/credential-provider-node.ts',
    ],
  },
  // Bundle everything, the AWS SDK included, and use nothing from the
  // runtime's copy of it: what deploys is what package-lock.json pins, and
  // esbuild keeps only the modules the functions import.
  externalModules: [],
};

/**
 * Table access levels, and the DynamoDB actions each one means: what the
 * adapters call, nothing more. TransactWriteItems and TransactGetItems are
 * not IAM actions: each item in a transaction is authorised as its own
 * Put/Update/Delete/ConditionCheck. Query and Scan (no adapter reads more
 * than an item by its key) and BatchWriteItem (unconditional writes) are
 * left out on purpose; test/deployed checks every grant against the calls
 * the deployed functions make.
 */
export const TABLE_ACTIONS = {
  /** Reads one item by its key (userInfo's one read; no batch). */
  RO: ['dynamodb:GetItem'],
  /** Conditional writes only, alone or in transactions: no reads (the send's codes, nonces and counters). */
  WRITE: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  /** Reads, and conditional writes alone or in transactions. */
  RW: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
  /**
   * One item at a time, by its key: read, put, update, delete (alone or as
   * the items of a transaction), and the condition checks with which a
   * transaction repairs drift between a user and a claim. No batch, no query.
   */
  ITEM_RW: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  /** RW without transactions (a multi-Region strongly consistent table refuses them): no condition checks. */
  RW_SINGLE: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  /** ITEM_RW without transactions. */
  ITEM_RW_SINGLE: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  /** Reads, updates and deletes items that exist, one at a time: an ordered unlink, the reconciler. */
  ITEM_CHANGE: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
} as const satisfies Record<string, readonly `dynamodb:${string}`[]>;

export type TableAccess = keyof typeof TABLE_ACTIONS;

/** The one Secrets Manager action a function needs: it reads the value, and again once its cache expires. */
export const SECRET_ACTIONS: readonly string[] = ['secretsmanager:GetSecretValue'];

export interface ApiFunctionProps {
  /** File name of the handler in functions/entry, e.g. `user-info.ts`. */
  readonly entry: string;
  readonly description?: string;
  /** Merged over the construct's defaults; add more later with `addEnvironment`. */
  readonly environment?: Readonly<Record<string, string>>;
  /** How long the function's logs are kept. */
  readonly logRetention: RetentionDays;
  /** What happens to the log group when the stack goes. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** POWERTOOLS_LOG_LEVEL. @default its registry default, INFO */
  readonly logLevel?: LogLevel;
  /** X-Ray active tracing. @default false */
  readonly tracing?: boolean;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
}

/**
 * One API Lambda function with the project's defaults fixed once: Node.js 22
 * on Graviton, an ESM bundle with source maps, its own log group with
 * retention, its own role that may write only that log group. Everything
 * else is granted by a bind: `bindTable` and `bindSecret` set the
 * environment variable and the IAM grant together, so neither comes alone.
 */
export class ApiFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** When Lambda stops a request: the near-timeout alarm is set against it. */
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.millis(FUNCTION_TIMEOUT_MS);

    // An explicit log group, so retention and removal are ours (the implicit
    // /aws/lambda/<name> group never expires and outlives the stack).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    // Our own role instead of the default one with AWSLambdaBasicExecutionRole,
    // which may create any log group and write to every one in the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(ENTRY_DIR, props.entry),
      handler: 'handler',
      description: props.description,
      role: this.role,
      runtime: RUNTIME,
      // Graviton: cheaper per GB-second than x86, and every dependency is pure JS.
      architecture: Architecture.ARM_64,
      // CPU scales with memory: 256 MB gives enough of it for a quick cold
      // start (SDK init, JWT signature checks) at a small price per request.
      memorySize: props.memorySize ?? 256,
      // A request makes a few DynamoDB calls and at most one SNS publish or
      // JWKS fetch, each cut off by the SDK's timeouts, and answers by the
      // budget's margin (functions/request-budget.ts); 10 s stops a hung
      // request well before API Gateway's 30 s integration limit.
      timeout: this.timeout,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      logGroup: this.logGroup,
      // No NODE_OPTIONS=--enable-source-maps: Node would read and index the
      // map at every cold start (docs/PERFORMANCE.md measures it). The .map
      // beside each bundle in cdk.out decodes a stack trace offline; pass the
      // option in `environment` to turn it on for a debugging session.
      environment: {
        // Logs and EMF metrics carry the names the alarms and dashboards look for.
        [BINDINGS.serviceName]: SERVICE_NAME,
        [BINDINGS.metricsNamespace]: METRICS_NAMESPACE,
        [POWERTOOLS.logLevel.env]: POWERTOOLS.logLevel.rule.format(props.logLevel ?? POWERTOOLS.logLevel.default),
        ...props.environment,
      },
      bundling: BUNDLING,
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: it is the LTS line the code and its tests run on, and Lambda supports it until ' +
        '2027-04-30. Moving to a newer runtime is a tested upgrade, not something a linter should trigger.',
    });
    if (props.tracing) {
      // Only the role's default policy, where Lambda puts the X-Ray statement; other policies stay checked.
      Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so "*" is the only resource.',
      });
    }
  }

  /**
   * Sets `envName` to the table's name and grants exactly the actions of the
   * access level asked for (TABLE_ACTIONS). (Tables use the AWS-managed key
   * aws/dynamodb, which needs no grant; a customer-managed key would need one
   * here.)
   */
  bindTable(table: ITable, envName: string, access: TableAccess): this {
    this.function.addEnvironment(envName, table.tableName);
    table.grant(this.function, ...TABLE_ACTIONS[access]);
    return this;
  }

  /**
   * Sets `envName` (always `*_SECRET_ARN`: the function gets where the
   * secret is, never its value) and allows reading exactly that secret.
   */
  bindSecret(secret: ISecret, envName: `${string}_SECRET_ARN`): this {
    if (!/^[A-Z][A-Z0-9_]*_SECRET_ARN$/.test(envName)) throw new Error(`A secret's variable must be NAME_SECRET_ARN, got ${envName}`);
    this.function.addEnvironment(envName, secret.secretArn);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...SECRET_ACTIONS], resources: [secret.secretArn] }));
    // Secrets under a customer-managed key also need decrypt on that key.
    secret.encryptionKey?.grantDecrypt(this.role);
    return this;
  }

  /** Adds environment variables, skipping those left undefined (the function's own default applies). */
  addEnvironment(variables: Readonly<Record<string, string | undefined>>): this {
    for (const [name, value] of Object.entries(variables)) {
      if (value !== undefined) this.function.addEnvironment(name, value);
    }
    return this;
  }
}
