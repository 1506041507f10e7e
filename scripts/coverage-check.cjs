// lambda/'s coverage over every jest run of .ci/run (Node 24 and Node 20: the CLIs and local emulators run Lambda
// code in process too), held to jest.config.js's threshold for ./lambda/. Usage: coverage-check.cjs <coverage-final.json>...
const fs = require('node:fs');
const path = require('node:path');
const { createCoverageMap } = require('istanbul-lib-coverage');

const root = path.join(__dirname, '..');
const threshold = require(path.join(root, 'jest.config.js')).coverageThreshold['./lambda/'];
const map = createCoverageMap({});
for (const file of process.argv.slice(2)) map.merge(JSON.parse(fs.readFileSync(file, 'utf8')));
const lambdaDir = path.join(root, 'lambda') + path.sep;
const lambda = createCoverageMap({});
for (const file of map.files())
  if (file.startsWith(lambdaDir)) lambda.addFileCoverage(map.fileCoverageFor(file));
const summary = lambda.getCoverageSummary();
let ok = true;
for (const metric of ['statements', 'branches', 'functions', 'lines']) {
  const { pct, covered, total } = summary[metric];
  const below = pct < threshold[metric];
  if (below) ok = false;
  console.log(
    `${metric.padEnd(10)} ${pct.toFixed(2)}% (${covered}/${total}), threshold ${threshold[metric]}%${below ? ': BELOW' : ''}`,
  );
}
process.exit(ok ? 0 : 1);
