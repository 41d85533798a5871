import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The cloud assembly `cdk synth` writes for a deployment, read as
 * CloudFormation and the CDK CLI read it: the template, and the asset
 * manifest that says which directory each `Code.S3Key` is uploaded from.
 */

const ROOT = path.join(__dirname, '..', '..');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Resource {
  readonly Type: string;
  readonly Properties?: Json;
}

export interface Template {
  readonly Resources: Record<string, Resource>;
}

export interface CloudAssembly {
  readonly directory: string;
  /** The stack's artifact id: its stack name. */
  readonly stackName: string;
  /** The region the stack is pinned to, or undefined for an environment-agnostic stack. */
  readonly region: string | undefined;
  readonly template: Template;
  /** The asset directory each function's Code names (S3Key -> asset manifest -> source path). */
  bundleDirOf(functionId: string): string;
}

/**
 * Synthesises bin/app.ts as the CDK CLI runs it (`cdk synth -o outdir -c
 * ...`): a separate process with CDK_OUTDIR and CDK_CONTEXT_JSON, bundling
 * every function with the local esbuild. Its output is kept for the error.
 * With `stackName`, as `cdk synth <stackName> --exclusively` runs it: only
 * that stack's functions are bundled, and that stack is the one read.
 */
export async function synthesizeApp(outdir: string, context: Record<string, unknown>, stackName?: string): Promise<CloudAssembly> {
  const cliContext = {
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    ...(stackName === undefined ? {} : { 'aws:cdk:bundling-stacks': [stackName] }),
    ...context,
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'app.ts')], {
      cwd: ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(cliContext) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`synth of bin/app.ts exited with ${code}:\n${text}`))));
  });
  return readCloudAssembly(outdir, output, stackName);
}

function readCloudAssembly(directory: string, synthOutput: string, stackName: string | undefined): CloudAssembly {
  const manifest = readJson(path.join(directory, 'manifest.json'));
  const artifacts = Object.entries(manifest.artifacts as Record<string, Json>);
  const stacks = artifacts.filter(([id, artifact]) => artifact.type === 'aws:cloudformation:stack' && (stackName === undefined || id === stackName));
  if (stacks.length !== 1) throw new Error(`expected one stack ${stackName ?? ''} in the assembly, found ${stacks.length}:\n${synthOutput}`);
  const [[stackId, stack]] = stacks as [[string, Json]];
  const template = readJson(path.join(directory, stack.properties.templateFile)) as Template;
  // aws://<account>/<region>, `unknown-region` when the stack deploys wherever the credentials point.
  const region = /^aws:\/\/[^/]+\/(.+)$/.exec(String(stack.environment))?.[1];

  // The stack's own asset manifest: each stack of a multi-stack assembly has one.
  const assetFiles = artifacts
    .filter(([id, artifact]) => artifact.type === 'cdk:asset-manifest' && (stack.dependencies as string[] | undefined)?.includes(id))
    .map(([, artifact]) => artifact)
    .flatMap((artifact) => Object.values(readJson(path.join(directory, artifact.properties.file)).files as Record<string, Json>));
  const sourceByObjectKey = new Map<string, string>();
  for (const asset of assetFiles) {
    for (const destination of Object.values(asset.destinations as Record<string, Json>)) sourceByObjectKey.set(destination.objectKey, asset.source.path);
  }

  return {
    directory,
    stackName: stackId,
    region: region === 'unknown-region' ? undefined : region,
    template,
    bundleDirOf(functionId) {
      const code = template.Resources[functionId]?.Properties?.Code as Json | undefined;
      const source = typeof code?.S3Key === 'string' ? sourceByObjectKey.get(code.S3Key) : undefined;
      if (source === undefined) throw new Error(`${functionId}: its Code ${JSON.stringify(code)} names no asset of the assembly`);
      const dir = path.join(directory, source);
      if (!existsSync(path.join(dir, 'index.mjs'))) throw new Error(`${functionId}: no index.mjs in ${dir}`);
      return dir;
    },
  };
}

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

/** The fake account, region and partition the template's references resolve under. */
export const ENVIRONMENT = { account: '123456789012', region: 'eu-west-1', partition: 'aws', urlSuffix: 'amazonaws.com' } as const;

/**
 * Resolves CloudFormation intrinsics the way a deployment would, given what
 * a `Ref` and an `Fn::GetAtt ... Arn` of each resource stand for here.
 */
export class Resolver {
  constructor(
    private readonly template: Template,
    private readonly refs: Readonly<Record<string, string>>,
  ) {}

  resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, where));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Json);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Ref') return this.ref(String(argument), where);
    if (entries.length === 1 && key === 'Fn::GetAtt') return this.getAtt(argument as [string, string], where);
    if (entries.length === 1 && key === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => this.string(part, where)).join(separator);
    }
    if (entries.length === 1 && key?.startsWith('Fn::')) throw new Error(`${where}: ${key} is not resolved here`);
    return Object.fromEntries(entries.map(([name, item]) => [name, this.resolve(item, where)]));
  }

  string(value: unknown, where: string): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved !== 'string') throw new Error(`${where}: ${JSON.stringify(value)} is not a string`);
    return resolved;
  }

  private ref(id: string, where: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ENVIRONMENT.account,
      'AWS::Region': ENVIRONMENT.region,
      'AWS::Partition': ENVIRONMENT.partition,
      'AWS::URLSuffix': ENVIRONMENT.urlSuffix,
    };
    const resolved = pseudo[id] ?? this.refs[id];
    if (resolved === undefined) throw new Error(`${where}: Ref ${id} (${this.template.Resources[id]?.Type ?? 'unknown'}) has no stand-in`);
    return resolved;
  }

  private getAtt([id, attribute]: [string, string], where: string): string {
    const type = this.template.Resources[id]?.Type;
    if (attribute !== 'Arn' || type === undefined) throw new Error(`${where}: Fn::GetAtt ${id}.${attribute} is not resolved here`);
    // A table's ARN names the table, as its Ref does (a Fn::Join of the Ref, for a table bound by name, gives the same).
    const arn = TABLE_TYPES.includes(type) ? tableArnOf(this.ref(id, where)) : arnOf(type, id);
    if (arn === undefined) throw new Error(`${where}: no ARN for ${type} ${id}`);
    return arn;
  }
}

/** A regional table, and the users table of the multi-region mode (an MRSC global table; its replica here is a table). */
export const TABLE_TYPES: readonly string[] = ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'];

/** The ARN of the table named `tableName` under ENVIRONMENT. */
export const tableArnOf = (tableName: string): string => `arn:${ENVIRONMENT.partition}:dynamodb:${ENVIRONMENT.region}:${ENVIRONMENT.account}:table/${tableName}`;

/** The ARN a resource of `type` would have, named after its logical id, under ENVIRONMENT. */
export function arnOf(type: string, logicalId: string): string | undefined {
  const { partition, region, account } = ENVIRONMENT;
  const arns: Record<string, string> = {
    'AWS::Logs::LogGroup': `arn:${partition}:logs:${region}:${account}:log-group:${logicalId}:*`,
    'AWS::IAM::Role': `arn:${partition}:iam::${account}:role/${logicalId}`,
    'AWS::Lambda::Function': `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`,
    'AWS::SNS::Topic': `arn:${partition}:sns:${region}:${account}:${logicalId}`,
    'AWS::Events::Rule': `arn:${partition}:events:${region}:${account}:rule/${logicalId}`,
  };
  return arns[type];
}

/** The logical ids of every resource of `type`. */
export const idsOf = (template: Template, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);

/** `SendPhoneSmsCodeFunction273AC3B5` -> `SendPhoneSmsCode`: the construct a function belongs to. */
export const functionName = (functionId: string): string => functionId.replace(/[0-9A-F]{8}$/, '').replace(/Function$/, '');
