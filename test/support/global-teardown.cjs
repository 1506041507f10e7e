// jest's globalTeardown: removes the run's temporary directory (global-setup.cjs).
const fs = require('node:fs');

module.exports = () => {
  const dir = process.env.ALARM_TO_PAGERDUTY_TEST_TMPDIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
