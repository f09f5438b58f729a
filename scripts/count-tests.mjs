// Prints "N passed, N failed" from vitest JSON reports (the closing line CI reads).
// A report that is missing counts as one failure: its run did not get as far as writing it.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
for (const path of process.argv.slice(2)) {
  if (!existsSync(path)) {
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(path, "utf8"));
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    for (const test of tests) {
      if (test.status === "passed") passed += 1;
      else if (test.status === "failed") failed += 1;
    }
    // A file that failed to load, or whose set-up failed (its tests then count as skipped), is a
    // failure all the same.
    if (file.status === "failed" && !tests.some((test) => test.status === "failed")) failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
