// `docker run --init` on a dockerd whose init-path is drainit: Docker mounts it at
// /sbin/docker-init and runs `/sbin/docker-init -- CMD`, so drainit runs as tini would.
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRAINIT, docker, sleep, stopAndObserve, useEngine } from "./engine.ts";

const engine = useEngine(() => docker("docker-drainit-init"));

describe("docker run --init with init-path drainit", () => {
  it("passes the exit code on", async () => {
    const result = await engine().runToEnd("init-exit", ["--init", "drainit-test/busybox-glibc", "sh", "-c", "exit 3"]);
    expect(result.code).toBe(3);
  });

  it("exits 128+n when a signal kills the command", async () => {
    const result = await engine().runToEnd("init-signal", ["--init", "drainit-test/busybox-glibc", "sh", "-c", "kill -USR1 $$"]);
    expect(result.code).toBe(128 + 10);
  });

  it("reaps orphans: none is left a zombie", async () => {
    // Each orphan is the background child of a subshell that exits at once: reparented to PID 1.
    const script = "for i in 1 2 3 4 5 6 7 8; do (sleep 0.1 &) ; done; sleep 1; ps -o pid,stat,comm";
    const result = await engine().runToEnd("init-reap", ["--init", "drainit-test/busybox-glibc", "sh", "-c", script]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/docker-init/);
    expect(result.stdout.split("\n").filter((line) => /^\s*\d+\s+Z/.test(line))).toEqual([]);
  });

  it("is silent: nothing but the command's own output", async () => {
    const result = await engine().runToEnd("init-silent", ["--init", "drainit-test/busybox-glibc", "sh", "-c", "echo out; echo err >&2"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toBe("err\n");
  });

  it("docker stop: SIGTERM reaches the command, which dies by it: exit 143 at once", async () => {
    const name = await engine().start("init-stop", ["--init", "drainit-test/busybox-glibc", "sleep", "600"]);
    await sleep(300);
    const { stopMs, code, output } = await stopAndObserve(engine(), name);
    expect(stopMs).toBeLessThan(3_000);
    expect(code).toBe(143);
    expect(output).toBe("");
  });

  it("docker info shows drainit's version as the init version", async () => {
    const info = JSON.parse(await engine().ok(["info", "--format", "{{json .}}"])) as {
      InitBinary: string;
      InitCommit: { ID: string };
    };
    // The init-path is a link named docker-init to drainit (scripts/engine-start.sh).
    expect(realpathSync(info.InitBinary)).toBe(realpathSync(DRAINIT));
    // What dockerd parsed from `docker-init --version`: the same program under Docker's name for it.
    const dir = mkdtempSync(join(tmpdir(), "drainit-docker-init-"));
    try {
      symlinkSync(DRAINIT, join(dir, "docker-init"));
      const version = spawnSync(join(dir, "docker-init"), ["--version"], { encoding: "utf8" }).stdout.trim();
      expect(info.InitCommit.ID).not.toMatch(/^(|N\/A)$/);
      expect(version).toContain(info.InitCommit.ID);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a busybox-only image (no glibc): the container cannot start drainit, and says so", async () => {
    // drainit is linked against glibc: its loader is missing from such an image. README: "In real containers".
    const result = await engine().runToEnd("init-noglibc", ["--init", "drainit-test/busybox", "true"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\/sbin\/docker-init: no such file or directory/);
  });
});
