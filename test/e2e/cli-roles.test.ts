// The command line through the binary, as PID 1: getopt-style attached values, the roles of
// Docker's and Podman's init (docker-init, podman-init, catatonit), catatonit's pause mode.
import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allProcesses } from "../../src/sys/proc.ts";
import { DRAINIT, sleep, waitFor } from "./harness.ts";
import { RECORD_SIGNALS, finish, linesOf, readyPids, start, stderrLines, tempDir, usr1InFamily, waitForLine } from "./core-support.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

function linkNamed(name: string): string {
  const link = join(tempDir(), name);
  symlinkSync(DRAINIT, link);
  return link;
}

describe("attached option values, through the binary", () => {
  it("reads -r15:3 -rUSR1:USR2 -e3 -pSIGTERM and --grace=1s as getopt does", async () => {
    const file = join(tempDir(), "signals");
    const run = start(["-r15:3", "-rUSR1:USR2", "-e3", "-pSIGTERM", "--grace=1s", "-c", "--", "bash", RECORD_SIGNALS, file, "3"]);
    await readyPids(run);
    await run.signal("SIGUSR1");
    await waitForLine(file, "USR2");
    await run.signal("SIGTERM");
    await waitForLine(file, "QUIT");
    // QUIT does not end the recorder; the grace period's SIGKILL does (exit 137), which -e3 leaves alone.
    const { code, stderr } = await run.finished;
    expect(linesOf(file)).toEqual(["USR2", "QUIT"]);
    expect(code).toBe(137);
    expect(stderr).toMatch(/timeline/);
  }, 20_000);

  it("passes the child's code through -e3 attached", async () => {
    const result = await finish(["-e3", "--", "sh", "-c", "exit 3"]);
    expect(result.code).toBe(0);
  });

  it.each([
    [["--drain"], "drainit: --drain needs a value (see drainit --help)"],
    [["-r"], "drainit: -r needs a value (see drainit --help)"],
    [["--bogus", "true"], "drainit: unknown option '--bogus' (see drainit --help)"],
    [["--grace", "400d", "true"], "drainit: --grace: '400d' is longer than the maximum, 365d (see drainit --help)"],
  ])("refuses %j with one line and exit 2", async (args, line) => {
    const result = await finish(args);
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual([line]);
  });

  it("names the variable when the value came from the environment", async () => {
    const result = await finish(["true"], { env: { PATH, DRAINIT_GRACE: "400d" } });
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual([
      "drainit: DRAINIT_GRACE: '400d' is longer than the maximum, 365d (see drainit --help)",
    ]);
  });
});

describe("as Docker's and Podman's init", () => {
  it.each(["docker-init", "podman-init", "catatonit"])(
    "as %s -- CMD: signals the child alone",
    { timeout: 45_000 },
    async (name) => {
      const { child, grandchild } = await usr1InFamily(["--"], { binary: linkNamed(name), env: { PATH } });
      expect(child).toEqual(["USR1"]);
      expect(grandchild).toEqual([]);
    },
  );

  it.each(["docker-init", "podman-init", "catatonit"])(
    "as %s -g -- CMD: signals the child's process group",
    { timeout: 45_000 },
    async (name) => {
      const { grandchild } = await usr1InFamily(["-g", "--"], { binary: linkNamed(name), env: { PATH } });
      expect(grandchild).toEqual(["USR1"]);
    },
  );

  it.each(["docker-init", "podman-init", "catatonit"])("as %s: prints nothing on TERM (no timeline)", async (name) => {
    const file = join(tempDir(), "signals");
    const run = start(["--", "bash", RECORD_SIGNALS, file, "0"], { binary: linkNamed(name), env: { PATH } });
    await readyPids(run);
    await run.signal("SIGTERM");
    const { code, stderr, stdout } = await run.finished;
    expect(code).toBe(0);
    expect(linesOf(file)).toEqual(["TERM"]);
    expect(stderr).toBe("");
    expect(stdout).not.toMatch(/drainit/);
  });

  it("still shows the drain's lines and timeline when a drain option asks for them", async () => {
    const file = join(tempDir(), "signals");
    const run = start(["--drain", "100ms", "--", "bash", RECORD_SIGNALS, file, "0"], {
      binary: linkNamed("docker-init"),
      env: { PATH },
    });
    await readyPids(run);
    await run.signal("SIGTERM");
    const { code, stderr } = await run.finished;
    expect(code).toBe(0);
    expect(stderr).toMatch(/^drainit: timeline stop=TERM/m);
  });

  it("answers --version as docker-init in tini's format, which dockerd parses", async () => {
    const result = await finish(["--version"], { binary: linkNamed("docker-init"), notPid1: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^tini version drainit \d+\.\d+\.\d+ - git\.drainit\n$/);
  });
});

describe("catatonit's pause mode (-P)", () => {
  it("runs no program, reaps what is re-parented to it as PID 1, and exits 0 on TERM, silently", async () => {
    const run = start(["-P"], { binary: linkNamed("catatonit"), env: { PATH } });
    const init = await run.initPid();
    await sleep(300);
    expect(allProcesses().filter((entry) => entry.ppid === init)).toEqual([]);
    // A process that leaves an orphan behind inside the namespace: the orphan becomes PID 1's.
    execFileSync("nsenter", ["--target", String(init), "--pid", "--", "sh", "-c", "sleep 1.5 & exit 0"], {
      stdio: "ignore",
    });
    const orphan = await waitFor(() => allProcesses().find((entry) => entry.ppid === init) ?? null, 10_000, "the orphan");
    await waitFor(() => (allProcesses().some((entry) => entry.pid === orphan.pid) ? null : true), 10_000, "the orphan reaped");
    expect(run.process.exitCode).toBeNull();
    await run.signal("SIGTERM");
    const { code, stderr, stdout } = await run.finished;
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toBe("");
  }, 20_000);

  it("exits 0 on INT too, and keeps running through other signals", async () => {
    const run = start(["-P"], { binary: linkNamed("podman-init"), env: { PATH } });
    await run.initPid();
    await sleep(300);
    await run.signal("SIGHUP");
    await run.signal("SIGUSR1");
    await sleep(300);
    expect(run.process.exitCode).toBeNull();
    await run.signal("SIGINT");
    const { code, stderr } = await run.finished;
    expect(code).toBe(0);
    expect(stderr).toBe("");
  }, 20_000);

  it("is not drainit's own flag", async () => {
    const result = await finish(["-P"]);
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual(["drainit: unknown option '-P' (see drainit --help)"]);
  });
});
