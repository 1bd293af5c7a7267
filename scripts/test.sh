#!/usr/bin/env bash
# The whole test suite (what `npm test` and CI run): set-up, type-check, lint, unit (src and web/) then
# integration tests.
# Ends with one plain line `tests: N passed, N failed[, N skipped]` read from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test || exit 1
npx tsc -p tsconfig.json || { echo "tests: 0 passed, 1 failed (type-check)"; exit 1; }
npx tsc -p web/tsconfig.json || { echo "tests: 0 passed, 1 failed (type-check of web/)"; exit 1; }
npx eslint . || { echo "tests: 0 passed, 1 failed (lint)"; exit 1; }
mkdir -p .paved
rm -f .paved/test-results.json
npx vitest run --reporter=default --reporter=./test/support/flaky-reporter.ts --reporter=json --outputFile.json=.paved/test-results.json "$@"
code=$?
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(".paved/test-results.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    // vitest also fails the run for unhandled errors and failed hooks, which count as no failed test.
    const why = process.argv[1] !== "0" && r.numFailedTests === 0 ? ` (vitest exited ${process.argv[1]}: unhandled errors or a failed hook, see above)` : "";
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}${why}`);
  } catch { console.log("tests: 0 passed, 1 failed (no report)"); }
' "$code"
exit $code
