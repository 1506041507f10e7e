import { REPO_ROOT } from '../support/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = REPO_ROOT;
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

test('cdk.json sets every feature flag the installed aws-cdk-lib recommends, to its recommended value', () => {
  // The file `cdk init` copies into a new app's cdk.json; an upgrade that adds flags fails here until they are set.
  const recommended = readJson(require.resolve('aws-cdk-lib/recommended-feature-flags.json'));
  const context = readJson(path.join(ROOT, 'cdk.json')).context as Record<string, unknown>;
  expect(Object.keys(recommended).length).toBeGreaterThan(80);
  expect(context).toEqual(expect.objectContaining(recommended));
});
