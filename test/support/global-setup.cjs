// jest's globalSetup: every temporary file of a test run goes into one directory of the run's own, which
// global-teardown.cjs removes when the run ends. CDK writes an assembly into a new directory under os.tmpdir() for
// each App without an outdir and never removes it (7,043 of them were in /tmp here after a few days of test runs).
// Set before jest starts its workers, so they and every process they start inherit it.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alarm-to-pagerduty-test-'));
  process.env.ALARM_TO_PAGERDUTY_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
