// The README is the operator's reference: every metric the functions publish and every setting the handler reads
// is named there, so a new one cannot ship undocumented.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_METRICS } from '../lambda/shared/contract';
import { loadConfig } from '../lambda/pipeline/config';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

test.each(PIPELINE_METRICS)('the README names the metric %s', (metric) => {
  expect(readme).toContain(`\`${metric}\``);
});

// The variables loadConfig reads: an unknown value for each makes it name the variable in its error.
const configSource = readFileSync(join(__dirname, '..', 'lambda', 'pipeline', 'config.ts'), 'utf8');
const settings = [...configSource.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]!);

test('the settings read from config.ts are found', () => {
  expect(settings).toEqual(
    expect.arrayContaining(['LEDGER_TABLE_NAME', 'LEASE_GRACE_MS', 'RATE_LIMIT_PER_MINUTE']),
  );
  expect(() => loadConfig({ LEDGER_TABLE_NAME: 't', ROUTING_KEY_SECRETS: '{"default":"s"}' })).not.toThrow();
});

test.each(settings)('the README documents the setting %s in its configuration table', (setting) => {
  expect(readme).toMatch(new RegExp(`^\\| [^|]*\`${setting}\``, 'm'));
});
