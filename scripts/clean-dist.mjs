// Empties dist/ before a build, except the scratch folders (dist/.synth-*) where a synth running at the same time
// bundles a function (lib/private/handler-bundle.ts): removing one under it would fail that synth. CI builds in one
// lane (the package test's prepack, the bundle check) while the other lane synthesizes.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DIST = 'dist';
let entries = [];
try {
  entries = readdirSync(DIST);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
for (const entry of entries) {
  if (!entry.startsWith('.synth-')) rmSync(join(DIST, entry), { recursive: true, force: true });
}
