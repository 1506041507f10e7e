// jest's order of test files: the longest first, so that neither worker is left with a long file at the end.
// jest's own sequencer knows durations only from an earlier run's cache; a clean clone (CI) has none, and falls back
// to file size, which puts a minute-long property after a 3-second unit test twice its size. Without a cached
// duration, this one estimates: the seconds measured in CI for the few long files, else a few seconds for a file
// named for a slow kind (properties, integration, moto, simulations), plus a little for its size. With a cached
// duration for any file, jest's own order stands.
const Sequencer = require('@jest/test-sequencer').default;
const { statSync } = require('node:fs');
const { relative } = require('node:path');

/** Seconds each took in .ci/run on a clean clone (2026-12-06, two workers on two CPUs): the long ones only. */
const MEASURED_SECONDS = {
  'test/package.integration.test.ts': 70,
  'test/lambda/pipeline/ordering.property.test.ts': 60,
  'test/lambda/pipeline/ordering.faults.property.test.ts': 58,
  'test/lambda/handler.integration.test.ts': 39,
  'test/lib/regional-intake.test.ts': 28,
  'test/lambda/handler.faults.integration.test.ts': 23,
  'test/scripts/redrive.integration.test.ts': 23,
  'test/lambda/pipeline/ledger.contract.test.ts': 18,
  'test/lib/alarm-to-pagerduty.test.ts': 16,
};
const SLOW_KIND = /\.(property|integration|moto|simulation)\.test\.ts$/;

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    if (tests.some((test) => this.time(test) !== undefined)) return super.sort(tests);
    const estimate = (test) => {
      const measured =
        MEASURED_SECONDS[relative(test.context.config.rootDir, test.path).split('\\').join('/')];
      if (measured !== undefined) return measured;
      return (SLOW_KIND.test(test.path) ? 5 : 0) + statSync(test.path).size / 10_000;
    };
    const seconds = new Map(tests.map((test) => [test, estimate(test)]));
    return [...tests].sort((a, b) => seconds.get(b) - seconds.get(a));
  }
}

module.exports = LongestFirstSequencer;
