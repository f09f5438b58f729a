// Unused exports, files and types fail the tests (scripts/test.sh runs test/lint): knip, configured
// in knip.json, finds them. Kept out of test/unit, whose run stays a matter of a second or two.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

it("leaves no unused export, type or file (npm run lint)", () => {
  const knip = spawnSync(join(ROOT, "node_modules", ".bin", "knip"), ["--reporter", "compact", "--no-progress"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(knip.error).toBeUndefined();
  expect(`${knip.stdout}${knip.stderr}`.trim()).toBe("");
  expect(knip.status).toBe(0);
});
