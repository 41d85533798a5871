import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PROD_CONTEXT } from '../cdk/synth';
import { ENVIRONMENT, Resolver, arnOf, functionName, idsOf, synthesizeApp, type CloudAssembly, type Template } from './cloud-assembly';
import { DeployedHttpApi, routesOf, type ApiRoute } from './http-api';
import { LAMBDA_RESERVED_VARIABLES, LambdaProcess } from './lambda-process';
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
  close(): Promise<void>;
}

/**
 * The prod stage as `cdk deploy` would ship it, on loopback: synthesised with
 * bundling, each function's bundle run in its own process with the
 * environment the template gives it, references resolved to stand-ins.
 */
export async function deploy(dynamoDbEndpoint: string): Promise<Deployment> {
  const dir = mkdtempSync(path.join(tmpdir(), 'phone-link-deployed-'));
  const suffix = randomUUID().slice(0, 8);
  const cleanups: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const login = await startLoginService(dir, PROD_CONTEXT.jwtIssuer);
    cleanups.push(() => login.close());
    const assembly = await synthesizeApp(path.join(dir, 'cdk.out'), { ...PROD_CONTEXT, jwksUrl: login.jwksUrl });
    const { template } = assembly;

    const dynamo = new DynamoDBClient({ endpoint: dynamoDbEndpoint, region: ENVIRONMENT.region, credentials: CREDENTIALS });
    const db = DynamoDBDocumentClient.from(dynamo);
    cleanups.push(() => dynamo.destroy());
    const tableNames = await createTables(dynamo, template, suffix);

    // Secrets by the ARN a Ref gives (a Secret's Ref is its ARN): the JSON user-domain secret and the pepper.
    const domainSecrets = Object.fromEntries(PROD_CONTEXT.userDomains.split(',').map((domain) => [domain, `secret-of-${domain}-${randomBytes(6).toString('hex')}`]));
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
    const apiId = idsOf(template, 'AWS::ApiGatewayV2::Api')[0] ?? 'api';
    const api = new DeployedHttpApi(apiId, routes, new Map([...functions].map(([id, fn]) => [id, fn.process])));
    const tableIds = new Map([...tableNames].map(([id, name]) => [name, id]));
    return {
      assembly,
      template,
      resolver,
      routes,
      api,
      functions,
      standIns,
      login,
      tableNames,
      domainSecrets,
      pepper,
      db,
      tableArn: (tableName) => arnOf('AWS::DynamoDB::Table', tableIds.get(tableName) ?? `unknown-table-${tableName}`)!,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A number SNS refuses for good (opted out), to see the send answer 5059. */
export const REFUSED_NUMBER = { national: '13900139099', e164: '+8613900139099' } as const;
const REFUSED_NUMBERS = new Set<string>([REFUSED_NUMBER.e164]);

/** Each AWS::DynamoDB::Table of the template, under a fresh name: its own key schema, attributes, billing and TTL. */
async function createTables(dynamo: DynamoDBClient, template: Template, suffix: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of idsOf(template, 'AWS::DynamoDB::Table')) {
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
