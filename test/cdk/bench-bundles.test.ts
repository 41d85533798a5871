import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { buildBundle } from '../../bench/bundles';
import { FUNCTIONS, type FunctionName } from '../../functions/http/routes';
import { ApiFunction, ENTRY_DIR } from '../../lib/constructs/api-function';

/** `npm run bench` measures bundles it builds itself: they must be the ones the stack deploys. */
describe('bench bundles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-bundles-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are byte for byte what NodejsFunction bundles for the stack', async () => {
    const app = new App({ outdir: path.join(dir, 'cdk.out') });
    new ApiFunction(new Stack(app, 'Bundled'), 'Fn', { entry: 'user-info.ts', logRetention: RetentionDays.ONE_DAY });
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);

    const bench = await buildBundle(path.join(ENTRY_DIR, 'user-info.ts'), path.join(dir, 'bench'));

    const deployed = readFileSync(path.join(assembly.directory, assets[0] as string, 'index.mjs'));
    expect(readFileSync(bench.file).equals(deployed)).toBe(true);
    // BUNDLING's aliases took: middy's import of node:stream/web went to the
    // stand-in, and the SDK's default credential chain (with the SSO and STS
    // clients it brings) to the environment provider.
    const code = deployed.toString();
    expect(code).not.toContain('node:stream/web');
    expect(code).toContain('globalThis.ReadableStream');
    const packages = Object.keys(bench.metafile.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1]);
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    expect(packages.filter((name) => /credential-provider-(node|ini|sso|process|web-identity)|nested-clients|token-providers/.test(name ?? ''))).toEqual([]);
    // An ESM bundle has no require(): nothing bundled may call one.
    expect(code).not.toMatch(/\brequire\(/);
  });

  // Each entry imports its own wire (functions/entry/wires.ts): a bundle that took every function's would cold-start slower.
  it("hold only their own function's code", async () => {
    // The modules with code in the bundle: esbuild reads more, and leaves out what nothing uses.
    const inputsOf = async (name: FunctionName) => {
      const { metafile } = await buildBundle(path.join(ENTRY_DIR, FUNCTIONS[name].entry), path.join(dir, name));
      const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint);
      return Object.entries(output?.inputs ?? {}).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : []));
    };

    const userInfo = await inputsOf('userInfo');
    expect(userInfo).toContain('functions/use-cases/user-info.ts');
    expect(userInfo.filter((input) => /client-sns|libphonenumber-js|client-secrets-manager|use-cases\/(?!user-info|known-user)|code-issuer/.test(input))).toEqual([]);

    const reconciler = await inputsOf('linkReconciler');
    expect(reconciler).toContain('functions/adapters/dynamodb/link-reconciler.ts');
    expect(reconciler.filter((input) => /@middy|functions\/(http|use-cases)\/|phone-metadata/.test(input))).toEqual([]);
  });
});
