// Bundles lambda/handler.ts into dist/handler/ (index.mjs and the chunks it imports on first use; AWS SDK inside)
// and dist/handler-runtime-sdk/ (the runtime's SDK), the code the npm package deploys; likewise the image endpoint and the deploy marker. The esbuild options come from lib/private/handler-bundle.ts,
// the ones the construct bundles with from source in this repository, so both produce the same files.
// Run with tsx (it loads that .ts module): `npm run build`, which `npm pack` runs at prepack.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { BUNDLED_FUNCTIONS, deployedBundleOptions, prebuiltDirName } from '../lib/private/handler-bundle.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

for (const [fn, bundleAwsSdk] of BUNDLED_FUNCTIONS.flatMap((f) => [
  [f, true],
  [f, false],
])) {
  const outdir = path.join(root, 'dist', prebuiltDirName(fn, bundleAwsSdk));
  fs.rmSync(outdir, { recursive: true, force: true });
  // The same options the construct bundles with from source (lib/private/handler-bundle.ts).
  await esbuild.build({
    // The entry from this script's own path: tsx gives an imported .ts module no usable __dirname here.
    ...deployedBundleOptions(path.join(root, 'lambda', `${fn}.ts`), outdir, bundleAwsSdk),
    absWorkingDir: root,
    logLevel: 'warning',
  });
  const scripts = fs.readdirSync(outdir).filter((name) => name.endsWith('.mjs'));
  const kib = (name) => (fs.statSync(path.join(outdir, name)).size / 1024).toFixed(0);
  console.log(
    `${path.relative(root, outdir)}/index.mjs: ${kib('index.mjs')} KiB, and ${scripts.length - 1} chunk(s) of ` +
      `${
        scripts
          .filter((n) => n !== 'index.mjs')
          .map(kib)
          .join(' + ') || 0
      } KiB` +
      (bundleAwsSdk ? '' : ' (AWS SDK from the runtime)'),
  );
}

// The package's command (drill, redrive): one CommonJS file with the AWS SDK clients inside, so the package keeps
// no dependencies of its own. Node 20 is the oldest the package states it runs on.
const cliFile = path.join(root, 'dist', 'cli', 'index.cjs');
await esbuild.build({
  entryPoints: [path.join(root, 'scripts', 'cli.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: cliFile,
  minify: true,
  banner: { js: '#!/usr/bin/env node' },
  absWorkingDir: root,
  logLevel: 'warning',
});
fs.chmodSync(cliFile, 0o755);
console.log(`${path.relative(root, cliFile)}: ${(fs.statSync(cliFile).size / 1024).toFixed(0)} KiB`);
