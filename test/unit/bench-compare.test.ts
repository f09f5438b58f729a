// The benchmark's comparison of two results files (bench/micro/bench.py --compare), on small
// fixtures: it proves the arithmetic and the lines printed, not any speed.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ADDED_SETTINGS_VARIABLE, RUNTIME_SETTINGS } from "../../src/runtime/runtime-settings.ts";

const root = new URL("../..", import.meta.url).pathname;
const fixture = (name: string) => `test/fixtures/bench/${name}`;

function bench(...args: string[]) {
  const done = spawnSync("python3", ["bench/micro/bench.py", ...args], { cwd: root, encoding: "utf8" });
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}

/** The compare's table as {figure: [unit, old, new, delta, ratio]}. */
function rows(stdout: string): Record<string, string[]> {
  const table = stdout.split("\n\n")[1] ?? "";
  const out: Record<string, string[]> = {};
  for (const line of table.split("\n").filter(Boolean)) {
    const [name, ...cells] = line.trim().split(/\s+/);
    out[name!] = cells;
  }
  return out;
}

describe("bench --compare", () => {
  const run = bench("--compare", fixture("old.json"), fixture("new.json"));
  const table = rows(run.stdout);

  it("exits 0 and names both runs", () => {
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^old: test\/fixtures\/bench\/old\.json \(2026-01-01T00:00:00\+00:00, quick run\)$/m);
    expect(run.stdout).toMatch(/^new: test\/fixtures\/bench\/new\.json \(2026-01-02T00:00:00\+00:00, full run\)$/m);
  });

  it("prints a header, then every figure of either file once, the old file's order first", () => {
    expect(Object.keys(table)).toEqual([
      "figure",
      "startup.overhead.drainit",
      "memory.1x.late.pss.drainit",
      "memory.1x.late.threads.drainit",
      "reap.zombies_left.tini",
      "startup.split.self_restart",
      "flood.pss_growth_after_warmup.drainit",
      "startup.overhead.drainit-probe",
    ]);
    expect(table["figure"]).toEqual(["unit", "old", "new", "delta", "ratio"]);
  });

  it("gives the unit, both values, the difference and the ratio new/old", () => {
    expect(table["startup.overhead.drainit"]).toEqual(["ms", "20.00", "10.00", "-10.00", "0.50×"]);
    expect(table["memory.1x.late.pss.drainit"]).toEqual(["MB", "30.50", "33.55", "+3.05", "1.10×"]);
  });

  it("keeps counts whole", () => {
    expect(table["memory.1x.late.threads.drainit"]).toEqual(["threads", "4", "2", "-2", "0.50×"]);
  });

  it("has no ratio when the old value is zero, or when a value below zero changed sign", () => {
    expect(table["reap.zombies_left.tini"]).toEqual(["zombies", "0", "3", "+3", "—"]);
    expect(table["flood.pss_growth_after_warmup.drainit"]).toEqual(["MB", "-0.62", "0.50", "+1.12", "—"]);
  });

  it("shows a figure that only one run has, with a dash for the other", () => {
    expect(table["startup.split.self_restart"]).toEqual(["ms", "7.40", "—", "—", "—"]);
    expect(table["startup.overhead.drainit-probe"]).toEqual(["ms", "—", "12.50", "—", "—"]);
  });

  it("refuses a file that is not a results file in one line, exit 2", () => {
    const bad = bench("--compare", fixture("old.json"), "package.json");
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe("bench: --compare: package.json has no figures (not a results file of bench/micro/bench.py)\n");
  });

  it("refuses a file that does not exist in one line, exit 2", () => {
    const missing = bench("--compare", fixture("old.json"), fixture("absent.json"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`bench: --compare: cannot read ${fixture("absent.json")}: No such file or directory\n`);
  });
});

describe("bench start-up rows", () => {
  it("preset exactly the runtime settings drainit restarts itself with, and the marker", () => {
    const done = spawnSync(
      "python3",
      ["-c", "import json, sys; sys.path.insert(0, 'bench/micro'); import bench; print(json.dumps(bench.runtime_settings()))"],
      { cwd: root, encoding: "utf8" },
    );
    expect(done.stderr).toBe("");
    expect(JSON.parse(done.stdout)).toEqual([RUNTIME_SETTINGS, ADDED_SETTINGS_VARIABLE]);
  });
});
