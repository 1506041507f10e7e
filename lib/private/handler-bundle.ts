import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How the handler is bundled. The construct (bundling from source at synth, in this repository) and
 * scripts/bundle.mjs (the bundle prebuilt into the npm package at `prepack`) both read this, so both paths
 * produce the same index.mjs and chunks.
 */
/** The Node.js major the bundles are built for (esbuild's target) and tested on: the oldest runtime they may run on. */
export const BUNDLE_NODE_MAJOR = 24;

export const HANDLER_BUNDLE = {
  target: `node${BUNDLE_NODE_MAJOR}`,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // ESM with a require shim: Powertools ships ESM, some SDK dependencies are CommonJS and need `require`.
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
} as const;

/**
 * The esbuild options of a bundle as deployed, for the construct's synth-time bundling, scripts/bundle.mjs and
 * the benchmark: index.mjs in `outdir`, and beside it the chunks that `import()` loads on first use (the metric
 * graphs, SQS parking, Powertools Batch, the service-notification recognisers). A plain object, so lib/ does not
 * depend on esbuild's types.
 */
export function deployedBundleOptions(entry: string, outdir: string, bundleAwsSdk: boolean) {
  return {
    entryPoints: { index: entry },
    bundle: true,
    splitting: true,
    platform: 'node' as const,
    target: HANDLER_BUNDLE.target,
    format: HANDLER_BUNDLE.format,
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    minify: HANDLER_BUNDLE.minify,
    sourcemap: HANDLER_BUNDLE.sourcemap,
    sourcesContent: HANDLER_BUNDLE.sourcesContent,
    external: handlerExternalModules(bundleAwsSdk),
    banner: { js: HANDLER_BUNDLE.banner },
    mainFields: [...HANDLER_BUNDLE.mainFields],
  };
}

/** Bundling the SDK pins the tested version and loads faster than the runtime's copy (see `bundleAwsSdk`). */
export function handlerExternalModules(bundleAwsSdk: boolean): string[] {
  return bundleAwsSdk ? [] : ['@aws-sdk/*'];
}

/** Directory of each prebuilt variant, beside the compiled construct's directory (dist/handler…). */
export function prebuiltHandlerDirName(bundleAwsSdk: boolean): string {
  return prebuiltDirName('handler', bundleAwsSdk);
}

/** Every function the constructs deploy, by its entry's file name in lambda/; each is prebuilt into the package. */
export const BUNDLED_FUNCTIONS = ['handler', 'image-endpoint', 'deploy-marker'] as const;
export type BundledFunction = (typeof BUNDLED_FUNCTIONS)[number];

/** dist/<function> (AWS SDK inside) or dist/<function>-runtime-sdk. */
export function prebuiltDirName(fn: BundledFunction, bundleAwsSdk: boolean): string {
  return bundleAwsSdk ? fn : `${fn}-runtime-sdk`;
}

/** The repository root when this file runs from lib/; the package's dist/ when it runs compiled from dist/lib/. */
const PACKAGE_ROOT = path.join(__dirname, '..', '..');
/** A function's entry, resolved from this file so the app can be synthesized from any directory. */
export function entryOf(fn: BundledFunction): string {
  return path.join(PACKAGE_ROOT, 'lambda', `${fn}.ts`);
}
/** The handler's entry. */
export const HANDLER_ENTRY = entryOf('handler');

type HandlerCodeProps = Required<Pick<NodejsFunctionProps, 'code' | 'handler'>>;

/**
 * Where the handler's code comes from, decided by what is on disk, not by a prop:
 * - lambda/handler.ts exists beside lib/ (this repository): esbuild bundles it from source at synth, with the
 *   same options as scripts/bundle.mjs;
 * - otherwise (the npm package, which ships no TypeScript sources) the bundle built at `prepack`, in
 *   dist/handler (or dist/handler-runtime-sdk when `bundleAwsSdk` is false), so consumers need no esbuild.
 */
export function handlerCode(bundleAwsSdk: boolean): HandlerCodeProps {
  return functionCode('handler', bundleAwsSdk);
}

/** The same choice for any of the bundled functions (the image endpoint, the deploy marker). */
export function functionCode(fn: BundledFunction, bundleAwsSdk: boolean): HandlerCodeProps {
  const entry = entryOf(fn);
  if (fs.existsSync(entry)) return { code: bundledFromSource(entry, bundleAwsSdk), handler: 'index.handler' };
  const prebuilt = path.join(PACKAGE_ROOT, prebuiltDirName(fn, bundleAwsSdk));
  if (!fs.existsSync(path.join(prebuilt, 'index.mjs'))) {
    throw new Error(
      `AlarmToPagerDuty: neither the ${fn} function's source (${entry}) nor its prebuilt bundle ` +
        `(${prebuilt}/index.mjs) exists. The package was built without its prepack step: run \`npm run build\` in it.`,
    );
  }
  return { code: lambda.Code.fromAsset(prebuilt), handler: 'index.handler' };
}

/**
 * A directory asset bundled at synth by esbuild's API with deployedBundleOptions. Not NodejsFunction's bundling:
 * it always passes esbuild `--outfile`, and code splitting needs `--outdir`.
 */
function bundledFromSource(entry: string, bundleAwsSdk: boolean): lambda.Code {
  return lambda.Code.fromAsset(path.dirname(entry), {
    // The output's hash, as NodejsFunction had it: the bundle also depends on node_modules, not only lambda/.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling below always succeeds or throws. Required by the type.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      // Part of CDK's bundling cache key, which ignores `local`: without it every function would get the first
      // function's bundle (they share lambda/ as the source), and bundleAwsSdk false the bundle with the SDK.
      command: [
        'esbuild',
        path.relative(PACKAGE_ROOT, entry),
        bundleAwsSdk ? 'aws-sdk-inside' : 'aws-sdk-external',
      ],
      local: {
        tryBundle(outputDir: string): boolean {
          // esbuild is a dev dependency: required only here, where the TypeScript sources are.
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const esbuild = require('esbuild') as typeof import('esbuild');
          // Built beside dist/<function>, where scripts/bundle.mjs writes: the source maps' relative paths, and so
          // the chunks' hashed names, come out the same, and the asset is byte for byte the prebuilt bundle.
          fs.mkdirSync(path.join(PACKAGE_ROOT, 'dist'), { recursive: true });
          const scratch = fs.mkdtempSync(path.join(PACKAGE_ROOT, 'dist', '.synth-'));
          try {
            esbuild.buildSync({
              ...deployedBundleOptions(entry, scratch, bundleAwsSdk),
              absWorkingDir: PACKAGE_ROOT,
              logLevel: 'warning',
            });
            fs.cpSync(scratch, outputDir, { recursive: true });
          } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
          }
          return true;
        },
      },
    },
  });
}
