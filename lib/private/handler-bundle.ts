import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How the handler is bundled. The construct's NodejsFunction (bundling from source, in this repository) and
 * scripts/bundle.mjs (the bundle prebuilt into the npm package at `prepack`) both read this, so both paths
 * produce the same index.mjs.
 */
/** The Node.js major the bundles are built for (esbuild's target) and tested on: the oldest runtime they may run on. */
export const BUNDLE_NODE_MAJOR = 24;

export const HANDLER_BUNDLE = {
  target: `node${BUNDLE_NODE_MAJOR}`,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // ESM with a require shim: Powertools ships ESM, undici is CommonJS and needs `require`.
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
} as const;

/**
 * The esbuild options of a bundle as deployed (the flags NodejsFunction passes to esbuild), for
 * scripts/bundle.mjs and the benchmark. A plain object, so lib/ does not depend on esbuild's types.
 */
export function deployedBundleOptions(entry: string, outfile: string, bundleAwsSdk: boolean) {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node' as const,
    target: HANDLER_BUNDLE.target,
    format: HANDLER_BUNDLE.format,
    outfile,
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

type HandlerCodeProps = Pick<
  NodejsFunctionProps,
  'code' | 'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'bundling'
>;

/**
 * Where the handler's code comes from, decided by what is on disk, not by a prop:
 * - lambda/handler.ts exists beside lib/ (this repository): esbuild bundles it from source at synth;
 * - otherwise (the npm package, which ships no TypeScript sources) the bundle built at `prepack`, in
 *   dist/handler (or dist/handler-runtime-sdk when `bundleAwsSdk` is false), so consumers need no esbuild.
 */
export function handlerCode(bundleAwsSdk: boolean): HandlerCodeProps {
  return functionCode('handler', bundleAwsSdk);
}

/** The same choice for any of the bundled functions (the image endpoint, the deploy marker). */
export function functionCode(fn: BundledFunction, bundleAwsSdk: boolean): HandlerCodeProps {
  const entry = entryOf(fn);
  if (fs.existsSync(entry)) {
    return {
      entry,
      handler: 'handler',
      projectRoot: PACKAGE_ROOT,
      depsLockFilePath: path.join(PACKAGE_ROOT, 'package-lock.json'),
      bundling: {
        target: HANDLER_BUNDLE.target,
        minify: HANDLER_BUNDLE.minify,
        sourceMap: HANDLER_BUNDLE.sourcemap,
        sourcesContent: HANDLER_BUNDLE.sourcesContent,
        format: OutputFormat.ESM satisfies `${typeof HANDLER_BUNDLE.format}`,
        mainFields: [...HANDLER_BUNDLE.mainFields],
        banner: HANDLER_BUNDLE.banner,
        externalModules: handlerExternalModules(bundleAwsSdk),
      },
    };
  }
  const prebuilt = path.join(PACKAGE_ROOT, prebuiltDirName(fn, bundleAwsSdk));
  if (!fs.existsSync(path.join(prebuilt, 'index.mjs'))) {
    throw new Error(
      `AlarmToPagerDuty: neither the ${fn} function's source (${entry}) nor its prebuilt bundle ` +
        `(${prebuilt}/index.mjs) exists. The package was built without its prepack step: run \`npm run build\` in it.`,
    );
  }
  return { code: lambda.Code.fromAsset(prebuilt), handler: 'index.handler' };
}
