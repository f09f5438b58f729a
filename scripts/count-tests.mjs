// Prints "N passed, N failed" from a vitest JSON report (the closing line CI reads).
import { existsSync, readFileSync } from "node:fs";

const path = process.argv[2];
if (!path || !existsSync(path)) {
  console.log("0 passed, 1 failed");
  process.exit(0);
}
const report = JSON.parse(readFileSync(path, "utf8"));
let passed = 0;
let failed = 0;
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (test.status === "passed") passed += 1;
    else if (test.status === "failed") failed += 1;
  }
  // A file that failed to load has no assertions but is a failure all the same.
  if ((file.assertionResults ?? []).length === 0 && file.status === "failed") failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
