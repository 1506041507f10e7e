// jest.config.js's globalSetup gives the run a temporary directory of its own (removed by its globalTeardown), so
// that what tests leave in os.tmpdir(), CDK's assemblies among them, does not pile up in /tmp.
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';

test('temporary files of a test run, CDK assemblies included, go into the run’s own directory', () => {
  const dir = process.env.ALARM_TO_PAGERDUTY_TEST_TMPDIR;
  expect(dir).toMatch(/alarm-to-pagerduty-test-/);
  expect(os.tmpdir()).toBe(dir);
  expect(path.dirname(new App().outdir)).toBe(dir);
});
