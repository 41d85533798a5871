import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PROD_CONTEXT } from '../cdk/synth';
import { ENVIRONMENT, Resolver, TABLE_TYPES, arnOf, functionName, idsOf, synthesizeApp, tableArnOf, type CloudAssembly, type Template } from './cloud-assembly';
import { DeployedHttpApi, routesOf, type ApiRoute } from './http-api';
import { LAMBDA_RESERVED_VARIABLES, LambdaProcess, type Invocation } from './lambda-process';
import { AwsStandIns, startLoginService, type LoginService } from './stand-ins';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The credentials Lambda would hand the functions: only the stand-ins see them, and DynamoDB Local keeps one database per key and region. */
const CREDENTIALS = { accessKeyId: 'ASIADEPLOYEDTEST0001', secretAccessKey: 'deployed-test-secret', sessionToken: 'deployed-test-session' };

export interface DeployedFunction {
  readonly id: string;
  readonly name: string;
  /** The template's Environment.Variables, resolved. */
  readonly variables: Readonly<Record<string, string>>;
  readonly process: LambdaProcess;
}

export interface Deployment {
  readonly assembly: CloudAssembly;
  readonly template: Template;
  readonly resolver: Resolver;
  readonly routes: readonly ApiRoute[];
  readonly api: DeployedHttpApi;
  /** The template's scheduled rules (AWS::Events::Rule), each followed to the functions it targets. */
  readonly schedules: readonly Schedule[];
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  readonly standIns: AwsStandIns;
  readonly login: LoginService;
  /** Table logical id -> the name it has on DynamoDB Local this run. */
  readonly tableNames: ReadonlyMap<string, string>;
  /** The user domains served and their secrets, as the user-domain secret holds them. */
  readonly domainSecrets: Readonly<Record<string, string>>;
  readonly pepper: string;
  /** A client on the functions' database, to set up drift behind their backs (not recorded). */
  readonly db: DynamoDBDocumentClient;
  /** A table name as a function used it -> the ARN IAM sees: the template's table. */
  tableArn(tableName: string): string;
  /** What EventBridge does when the rule fires: invokes each target function with a scheduled event. */
  fireSchedule(schedule: Schedule): Promise<Invocation[]>;
  close(): Promise<void>;
}

/** A rule of the template that runs functions on a schedule. */
export interface Schedule {
  readonly ruleId: string;
  readonly expression: string;
  readonly functionIds: readonly string[];
}

/** Which deployment: the context of `cdk deploy`, and the stack of it to run (for a multi-stack app). */
export interface DeployOptions {
  readonly context: Readonly<Record<string, unknown>>;
  readonly stackName?: string;
}

/**
 * The prod stage as `cdk deploy` would ship it, on loopback: synthesised with
 * bundling, each function's bundle run in its own process with the
 * environment the template gives it, references resolved to stand-ins.
 */
export async function deploy(dynamoDbEndpoint: string, options: DeployOptions = { context: PROD_CONTEXT }): Promise<Deployment> {
  const dir = mkdtempSync(path.join(tmpdir(), 'phone-link-deployed-'));
  const suffix = randomUUID().slice(0, 8);
  const cleanups: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const { context } = options;
    const login = await startLoginService(dir, String(context.jwtIssuer));
    cleanups.push(() => login.close());
    const assembly = await synthesizeApp(path.join(dir, 'cdk.out'), { ...options.context, jwksUrl: login.jwksUrl }, options.stackName);
    const { template } = assembly;
    // The references resolve under ENVIRONMENT: a stack pinned elsewhere would be run in the wrong region.
    if (assembly.region !== undefined && assembly.region !== ENVIRONMENT.region) throw new Error(`${assembly.stackName} is pinned to ${assembly.region}, not ${ENVIRONMENT.region}`);

    const dynamo = new DynamoDBClient({ endpoint: dynamoDbEndpoint, region: ENVIRONMENT.region, credentials: CREDENTIALS });
    const db = DynamoDBDocumentClient.from(dynamo);
    cleanups.push(() => dynamo.destroy());
    const tableNames = await createTables(dynamo, template, suffix);

    // Secrets by the ARN a Ref gives (a Secret's Ref is its ARN): the JSON user-domain secret and the pepper.
    const domainSecrets = Object.fromEntries(String(context.userDomains).split(',').map((domain) => [domain, `secret-of-${domain}-${randomBytes(6).toString('hex')}`]));
    const pepper = randomBytes(32).toString('hex');
    const secretArns = new Map<string, string>();
    const secretValues = new Map<string, string>();
    for (const id of idsOf(template, 'AWS::SecretsManager::Secret')) {
      const arn = `arn:${ENVIRONMENT.partition}:secretsmanager:${ENVIRONMENT.region}:${ENVIRONMENT.account}:secret:${id}-${randomBytes(3).toString('hex')}`;
      const isJson = (template.Resources[id]!.Properties?.GenerateSecretString as Json | undefined)?.SecretStringTemplate !== undefined;
      secretArns.set(id, arn);
      secretValues.set(arn, isJson ? JSON.stringify(domainSecrets) : pepper);
    }
    // The HTTP API's own ids (a Ref of an integration is its generated id): stood in for by the logical ids.
    const apiIds = ['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Integration'].flatMap((type) => idsOf(template, type)).map((id) => [id, id]);
    const resolver = new Resolver(template, Object.fromEntries([...tableNames, ...secretArns, ...apiIds]));

    const standIns = new AwsStandIns({ dynamoDbEndpoint, secrets: secretValues, refusedNumbers: REFUSED_NUMBERS });
    cleanups.push(() => standIns.close());
    const functions = new Map<string, DeployedFunction>();
    cleanups.push(() => functions.forEach((fn) => fn.process.stop()));
    for (const id of idsOf(template, 'AWS::Lambda::Function')) {
      const properties = template.Resources[id]!.Properties as Json;
      const variables = resolver.resolve(properties.Environment?.Variables ?? {}, `${id}.Environment`) as Record<string, string>;
      const reserved = Object.keys(variables).filter((name) => LAMBDA_RESERVED_VARIABLES.includes(name));
      if (reserved.length > 0) throw new Error(`${id} sets variables Lambda reserves, and the deploy would fail: ${reserved.join(', ')}`);
      const endpoint = await standIns.endpointFor(id);
      const bundleDir = assembly.bundleDirOf(id);
      const handlerFile = String(properties.Handler).replace(/\.[^.]+$/, '.mjs');
      const env = { ...lambdaEnvironment(id, properties, bundleDir, dir), ...variables, ...standInEndpoints(endpoint, login.caFile, dir) };
      functions.set(id, {
        id,
        name: functionName(id),
        variables,
        process: new LambdaProcess(functionName(id), path.join(bundleDir, handlerFile), env, Number(properties.Timeout ?? 3) * 1000),
      });
    }
    await Promise.all([...functions.values()].map((fn) => fn.process.initialised));

    const routes = routesOf(template, resolver);
    const schedules = schedulesOf(template);
    const apiId = idsOf(template, 'AWS::ApiGatewayV2::Api')[0] ?? 'api';
    const api = new DeployedHttpApi(apiId, routes, new Map([...functions].map(([id, fn]) => [id, fn.process])));
    const tableIds = new Map([...tableNames].map(([id, name]) => [name, id]));
    return {
      assembly,
      template,
      resolver,
      routes,
      api,
      schedules,
      functions,
      standIns,
      login,
      tableNames,
      domainSecrets,
      pepper,
      db,
      tableArn: (tableName) => tableArnOf(tableIds.has(tableName) ? tableName : `unknown-table-${tableName}`),
      fireSchedule: (schedule) => Promise.all(schedule.functionIds.map((id) => functions.get(id)!.process.invoke(scheduledEvent(schedule), invocationContext(id)))),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Every AWS::Events::Rule with a ScheduleExpression, followed Targets[].Arn
 * `Fn::GetAtt [<function>, Arn]` to its functions, each of which must let
 * the rule invoke it (an AWS::Lambda::Permission for events.amazonaws.com
 * whose SourceArn is the rule), or EventBridge's invocations would fail.
 */
function schedulesOf(template: Template): Schedule[] {
  const permitted = (functionId: string, ruleId: string) =>
    idsOf(template, 'AWS::Lambda::Permission').some((id) => {
      const { Action, FunctionName, Principal, SourceArn } = template.Resources[id]!.Properties as Json;
      return Action === 'lambda:InvokeFunction' && Principal === 'events.amazonaws.com' && FunctionName?.['Fn::GetAtt']?.[0] === functionId && SourceArn?.['Fn::GetAtt']?.[0] === ruleId;
    });
  return idsOf(template, 'AWS::Events::Rule').flatMap((ruleId) => {
    const { ScheduleExpression, State, Targets } = template.Resources[ruleId]!.Properties as Json;
    if (ScheduleExpression === undefined || State !== 'ENABLED') return [];
    const functionIds = (Targets as Json[]).map((target) => {
      const id = target.Arn?.['Fn::GetAtt']?.[0] as string | undefined;
      if (id === undefined || template.Resources[id]?.Type !== 'AWS::Lambda::Function') throw new Error(`${ruleId}: target ${JSON.stringify(target.Arn)} is no function of the template`);
      if (!permitted(id, ruleId)) throw new Error(`${ruleId}: ${id} has no AWS::Lambda::Permission letting the rule invoke it`);
      return id;
    });
    return [{ ruleId, expression: String(ScheduleExpression), functionIds }];
  });
}

/** The event EventBridge sends a target of a scheduled rule. */
const scheduledEvent = (schedule: Schedule) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ENVIRONMENT.account,
  time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: ENVIRONMENT.region,
  resources: [arnOf('AWS::Events::Rule', schedule.ruleId)],
  detail: {},
});

/** The Lambda context of an invocation of `functionId`. */
export const invocationContext = (functionId: string): Record<string, unknown> => ({
  functionName: functionId,
  functionVersion: '$LATEST',
  invokedFunctionArn: arnOf('AWS::Lambda::Function', functionId),
  memoryLimitInMB: '256',
  logGroupName: `/aws/lambda/${functionId}`,
  logStreamName: 'deployed-test',
  callbackWaitsForEmptyEventLoop: true,
});

/** A number SNS refuses for good (opted out), to see the send answer 5059. */
export const REFUSED_NUMBER = { national: '13900139099', e164: '+8613900139099' } as const;
const REFUSED_NUMBERS = new Set<string>([REFUSED_NUMBER.e164]);

/**
 * Each table of the template, under a fresh name: its own key schema,
 * attributes, billing, indexes and TTL. An AWS::DynamoDB::GlobalTable is
 * created as its replica in this region is: a table of the same shape
 * (replicas, witness and consistency are between regions, which DynamoDB
 * Local has not).
 */
async function createTables(dynamo: DynamoDBClient, template: Template, suffix: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of TABLE_TYPES.flatMap((type) => idsOf(template, type))) {
    const { KeySchema, AttributeDefinitions, BillingMode, GlobalSecondaryIndexes, LocalSecondaryIndexes, TimeToLiveSpecification } = template.Resources[id]!.Properties as Json;
    const TableName = `deployed-${suffix}-${id}`;
    await dynamo.send(new CreateTableCommand({ TableName, KeySchema, AttributeDefinitions, BillingMode, GlobalSecondaryIndexes, LocalSecondaryIndexes }));
    if (TimeToLiveSpecification?.Enabled) {
      await dynamo.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification }));
    }
    names.set(id, TableName);
  }
  return names;
}

/** What Lambda sets in every execution environment of the function. */
function lambdaEnvironment(id: string, properties: Json, bundleDir: string, dir: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    _HANDLER: String(properties.Handler),
    AWS_REGION: ENVIRONMENT.region,
    AWS_DEFAULT_REGION: ENVIRONMENT.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${properties.Runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: id,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(properties.MemorySize ?? 128),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${id}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'deployed-test',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    LAMBDA_TASK_ROOT: bundleDir,
    LAMBDA_RUNTIME_DIR: dir,
  };
}

/**
 * The stand-ins, through the SDK's own service-specific endpoint variables
 * (the functions' code cannot tell them from a deployment's), and the
 * stand-in key-set server's certificate. A Lambda environment has no
 * ~/.aws files; nor does this one.
 */
const standInEndpoints = (endpoint: string, caFile: string, dir: string): Record<string, string> => ({
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  AWS_ENDPOINT_URL_SNS: endpoint,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
  NODE_EXTRA_CA_CERTS: caFile,
  AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
  // Node 20 runs the bundles here; Lambda's Node 22 never prints the SDK's "Node 22 soon required" warning.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
