#!/usr/bin/env bash
# Synthesizes the app (bundling the handler with the local esbuild) into cdk.out and runs cfn-lint on every
# template. Exit status is cfn-lint's: 0 clean, 2 errors, 4 warnings only (treated as success here), 8 info.
#   scripts/cfn-lint.sh                 synth with the CDK CLI, handler bundled
#   scripts/cfn-lint.sh --no-bundling   synth without bundling (no handler needed); for templates only
#   scripts/cfn-lint.sh --no-synth      lint the templates already in cdk.out (.ci/run, after `npm run synth`)
#   extra arguments after the options go to `cdk synth` (e.g. -c stackName=Other)
set -euo pipefail
cd "$(dirname "$0")/.."

outdir="cdk.out"
bundling=1
synth=1
if [[ "${1:-}" == "--no-bundling" ]]; then
  bundling=0
  shift
elif [[ "${1:-}" == "--no-synth" ]]; then
  synth=0
  shift
fi

if [[ $synth == 0 ]]; then
  : # the templates are in cdk.out already
elif [[ $bundling == 1 ]]; then
  rm -f "$outdir"/*.template.json
  npx cdk synth --quiet --output "$outdir" "$@"
else
  rm -f "$outdir"/*.template.json
  # The CLI refuses `aws:` context keys, so run the app the way the CLI does, with bundling turned off.
  context="$(node -e 'const c = require("./cdk.json").context ?? {}; c["aws:cdk:bundling-stacks"] = []; process.stdout.write(JSON.stringify(c));')"
  CDK_OUTDIR="$outdir" CDK_CONTEXT_JSON="$context" npx tsx bin/app.ts
fi

shopt -s nullglob
templates=("$outdir"/*.template.json)
if [[ ${#templates[@]} -eq 0 ]]; then
  echo "cfn-lint.sh: no templates in $outdir" >&2
  exit 1
fi

status=0
cfn-lint "${templates[@]}" || status=$?
if (( status & 2 )); then
  echo "cfn-lint.sh: errors found" >&2
  exit 2
fi
if (( status & 4 )); then
  echo "cfn-lint.sh: warnings only (listed above); no errors"
fi
exit 0
