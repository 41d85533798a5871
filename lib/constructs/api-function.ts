import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Where the Lambda entry points live; each exports `handler`. */
export const ENTRY_DIR = path.join(__dirname, '..', '..', 'functions', 'entry');

export type TableAccess = 'RO' | 'RW';

/**
 * DynamoDB actions per access level: what the adapters call, nothing more.
 * TransactWriteItems and TransactGetItems are not IAM actions: each item in a
 * transaction is authorised as its own Put/Update/Delete/ConditionCheck.
 * Scan and BatchWriteItem (unconditional writes) are left out on purpose.
 */
export const TABLE_ACTIONS: Readonly<Record<TableAccess, readonly string[]>> = {
  RO: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  RW: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
};

export interface ApiFunctionProps {
  /** File name under functions/entry/, e.g. `user-info.ts`. */
  readonly entry: string;
  readonly description?: string;
  /** Merged over the construct's defaults; add more later with `addEnvironment`. */
  readonly environment?: Readonly<Record<string, string>>;
  /** How long the function's logs are kept. */
  readonly logRetention: RetentionDays;
  /** What happens to the log group when the stack goes. */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
}

/**
 * One API Lambda function with the project's defaults fixed once: Node.js 22
 * on Graviton, an ESM bundle with source maps, its own log group with
 * retention. Use `bindTable` to hand it a table: the environment variable
 * and the IAM grant always come together.
 */
export class ApiFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);

    // An explicit log group, so retention and removal are ours (the implicit
    // /aws/lambda/<name> group never expires and outlives the stack).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(ENTRY_DIR, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      // Graviton: cheaper per GB-second than x86, and every dependency is pure JS.
      architecture: Architecture.ARM_64,
      // CPU scales with memory: 256 MB gives enough of it for a quick cold
      // start (SDK init, JWT signature checks) at a small price per request.
      memorySize: props.memorySize ?? 256,
      // A request makes a few DynamoDB calls and at most one SNS publish or
      // JWKS fetch: 10 s is ample headroom, yet stops a hung call well before
      // API Gateway's 30 s integration limit.
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup: this.logGroup,
      environment: {
        // Stack traces point at functions/*.ts, not at the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        // ESM: top-level await is available and esbuild tree-shakes ESM best.
        format: OutputFormat.ESM,
        // Prefer packages' ESM builds (the AWS SDK ships both) for tree-shaking.
        mainFields: ['module', 'main'],
        // Some bundled dependencies still call require(); give ESM one.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        minify: true,
        // Keep class and function names through minification: logs and
        // error names (e.g. ConditionalCheckFailedException) rely on them.
        keepNames: true,
        sourceMap: true,
        // The map only needs line mappings; leaving sources out keeps the bundle small.
        sourcesContent: false,
        // Bundle the AWS SDK rather than use the runtime's copy: the version
        // deployed is the one in package-lock.json (the one tested), and only
        // the commands used are shipped, which shortens cold starts.
        externalModules: [],
      },
    });
  }

  /**
   * Sets `envName` to the table's name and grants exactly the access asked
   * for. (Tables use AWS-owned keys; a customer-managed key would need its
   * own grant here.)
   */
  bindTable(table: ITable, envName: string, access: TableAccess): this {
    this.function.addEnvironment(envName, table.tableName);
    table.grant(this.function, ...TABLE_ACTIONS[access]);
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
