import { statSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../functions/http/routes';
import { BUNDLING, ENTRY_DIR, RUNTIME } from '../lib/constructs/api-function';

export interface Bundle {
  readonly name: FunctionName;
  /** The module Lambda loads (index.mjs). */
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * The esbuild options NodejsFunction derives from `BUNDLING` (aws-cdk-lib's
 * `Bundling.buildEsbuildArgs`, same flags through the API instead of the
 * CLI). An option this mapping does not know stops the bench, so a new
 * bundling option cannot silently make the bench build something else.
 */
export function esbuildOptions(entry: string, outdir: string, bundling: BundlingOptions = BUNDLING, runtime: Runtime = RUNTIME): BuildOptions {
  const known = new Set([
    'format', 'mainFields', 'banner', 'footer', 'minify', 'keepNames', 'sourceMap', 'sourcesContent',
    'externalModules', 'target', 'define', 'loader', 'logLevel', 'inject', 'esbuildArgs', 'charset',
  ]);
  const unknown = Object.keys(bundling).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`bench/bundles.ts does not map the bundling option(s) ${unknown.join(', ')}: add them`);
  const esm = bundling.format === 'esm';
  const version = /nodejs(\d+)/.exec(runtime.name)?.[1];
  if (!version) throw new Error(`No Node version in runtime ${runtime.name}`);
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: bundling.target ?? `node${version}`,
    ...(bundling.format ? { format: bundling.format } : {}),
    outfile: path.join(outdir, esm ? 'index.mjs' : 'index.js'),
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    sourcesContent: bundling.sourcesContent ?? true,
    // NodejsFunction's default for Node 18+ runtimes is to leave the SDK out.
    external: bundling.externalModules ?? ['@aws-sdk/*'],
    keepNames: bundling.keepNames ?? false,
    ...(bundling.mainFields ? { mainFields: bundling.mainFields } : {}),
    ...(bundling.banner ? { banner: { js: bundling.banner } } : {}),
    ...(bundling.footer ? { footer: { js: bundling.footer } } : {}),
    ...(bundling.define ? { define: bundling.define } : {}),
    ...(bundling.loader ? { loader: bundling.loader as BuildOptions['loader'] } : {}),
    ...(bundling.inject ? { inject: bundling.inject } : {}),
    ...(bundling.charset ? { charset: bundling.charset as BuildOptions['charset'] } : {}),
    ...extraArgs(bundling.esbuildArgs ?? {}),
    logLevel: (bundling.logLevel as BuildOptions['logLevel']) ?? 'warning',
    metafile: true,
  };
}

/** `esbuildArgs` as NodejsFunction passes them to the CLI, for the ones this project uses. */
function extraArgs(args: NonNullable<BundlingOptions['esbuildArgs']>): BuildOptions {
  const options: BuildOptions = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === '--alias') {
      options.alias = Object.fromEntries(
        (Array.isArray(value) ? value : [value]).map((item) => {
          const at = String(item).indexOf('=');
          return [String(item).slice(0, at), String(item).slice(at + 1)];
        }),
      );
    } else {
      throw new Error(`bench/bundles.ts does not map esbuildArgs ${key}: add it`);
    }
  }
  return options;
}

/** Builds one entry point as the stack would deploy it, into `outdir`. */
export async function buildBundle(entry: string, outdir: string): Promise<{ file: string; bytes: number; metafile: Metafile }> {
  const options = esbuildOptions(entry, outdir);
  const { metafile } = await build(options);
  const file = options.outfile as string;
  return { file, bytes: statSync(file).size, metafile: metafile as Metafile };
}

/** Builds every function of the route table as the stack deploys it, into `outdir/<name>/`. */
export async function buildBundles(outdir: string): Promise<Record<FunctionName, Bundle>> {
  const bundles = await Promise.all(
    FUNCTION_NAMES.map(async (name): Promise<Bundle> => ({ name, ...(await buildBundle(path.join(ENTRY_DIR, FUNCTIONS[name].entry), path.join(outdir, name))) })),
  );
  return Object.fromEntries(bundles.map((bundle) => [bundle.name, bundle])) as Record<FunctionName, Bundle>;
}

/** Bytes in the bundle per npm package (or per folder of ours), largest first. */
export function bytesByPackage(metafile: Metafile): [string, number][] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint);
  if (!output) return [];
  const sizes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    // Generated data (the phone metadata) by file, the rest of ours by folder.
    const key = inPackage?.[1] ?? (input.endsWith('.generated.ts') ? input : input.split('/').slice(0, 2).join('/'));
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}
