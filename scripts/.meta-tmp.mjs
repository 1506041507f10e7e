import * as esbuild from 'esbuild';
import { deployedBundleOptions } from '/work/wt/cold/lib/private/handler-bundle.ts';
const entry = process.argv[2];
const r = await esbuild.build({ ...deployedBundleOptions(entry, '/tmp/meta-out/index.mjs', true), metafile: true, write: false, logLevel: 'error' });
const out = Object.values(r.metafile.outputs).find(o => o.entryPoint);
const groups = {};
for (const [f, v] of Object.entries(out.inputs)) {
  let g = f.startsWith('node_modules/') ? f.split('/').slice(1, f.split('/')[1].startsWith('@') ? 3 : 2).join('/') : f.replace(/\/[^/]*$/, '') ;
  if (!f.startsWith('node_modules/')) g = f;
  groups[g] = (groups[g] ?? 0) + v.bytesInOutput;
}
const total = Object.values(groups).reduce((a,b)=>a+b,0);
console.log('total', (total/1024).toFixed(0));
for (const [g, b] of Object.entries(groups).sort((a,b)=>b[1]-a[1]).slice(0, +process.argv[3] || 40)) console.log((b/1024).toFixed(1).padStart(7), g);
