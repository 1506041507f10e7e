// Module hooks for the cold path's "bytes loaded" run (not its timed runs): appends the path of every file the
// module loader loads to the file named in BENCH_LOADED_FILES. Registered by bench/cold-child.mjs.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(process.env.BENCH_LOADED_FILES, `${fileURLToPath(url)}\n`);
  return nextLoad(url, context);
}
