// --export-rootfs, proved the way an image uses it: a root made of the export plus one static
// program (busybox), entered with chroot, drainit PID 1 of its own PID namespace — no Docker needed.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync, symlinkSync, lstatSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { processState } from "../../src/sys/proc.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRAINIT, childrenOf, runInit, runToExit, sleep, waitFor } from "./harness.ts";

const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "sleep", "touch", "cat", "echo", "ls"];

let work: string;
let root: string;
let exported: string[];
/** Runs `/drainit args...` as PID 1 inside the root, with /proc mounted there. */
let enterRoot: string;

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else found.push(`/${relative(root, path)}`);
  }
  return found;
}

const isZombie = (pid: number): boolean => processState(pid) === "Z";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "drainit-rootfs-"));
  root = join(work, "root");
  const out = execFileSync(DRAINIT, ["--export-rootfs", root], { encoding: "utf8" });
  exported = out.trim().split("\n");
  // The app: one static executable and its applet names, nothing from the host's /usr or /lib.
  mkdirSync(join(root, "bin"));
  copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  for (const applet of APPLETS) symlinkSync("busybox", join(root, "bin", applet));
  for (const dir of ["proc", "tmp"]) mkdirSync(join(root, dir));
  enterRoot = join(work, "enter-root.sh");
  writeFileSync(
    enterRoot,
    // The host's tools find themselves through their own PATH; the root's PATH comes from the test.
    `#!/bin/sh\nroot_path="$PATH"\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n` +
      `mount -t proc proc '${root}/proc' || exit 99\nchroot="$(command -v chroot)"\n` +
      `PATH="$root_path" exec "$chroot" '${root}' /drainit "$@"\n`,
  );
  chmodSync(enterRoot, 0o755);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const options = () => ({ binary: enterRoot, env: { PATH: "/bin" } });

describe("drainit --export-rootfs", () => {
  it("writes only drainit, its ELF interpreter and its shared libraries", () => {
    expect(exported[0]).toBe("/drainit");
    const interpreter = execFileSync("readelf", ["-l", DRAINIT], { encoding: "utf8" }).match(
      /Requesting program interpreter: ([^\]]+)\]/,
    )?.[1];
    expect(exported).toContain(interpreter);
    const libraries = exported.slice(1).filter((path) => path !== interpreter);
    expect(libraries.length).toBeGreaterThan(0);
    for (const path of libraries) expect(path).toMatch(/\/lib[^/]*\.so(\.\d+)*$/);
    expect(libraries.some((path) => /\/libc\.so\.6$/.test(path))).toBe(true);
    // Every file under the export is one of those (busybox and the mount points were added after).
    const files = filesUnder(root).filter((path) => !path.startsWith("/bin/"));
    expect(files.sort()).toEqual([...exported].sort());
    for (const path of exported) expect(lstatSync(join(root, path)).isFile()).toBe(true);
    expect(statSync(join(root, "drainit")).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(root, "drainit")).equals(readFileSync(DRAINIT))).toBe(true);
  });

  it("puts drainit where --as says", () => {
    const other = join(work, "other");
    const out = execFileSync(DRAINIT, ["--export-rootfs", other, "--as", "/usr/local/bin/drainit"], { encoding: "utf8" });
    expect(out.split("\n")[0]).toBe("/usr/local/bin/drainit");
    expect(existsSync(join(other, "usr/local/bin/drainit"))).toBe(true);
    expect(existsSync(join(other, "drainit"))).toBe(false);
  });

  it("fails with one line and exit 1 when it cannot write, 2 for bad usage", () => {
    const blocker = join(work, "a-file");
    writeFileSync(blocker, "");
    const io = spawnSync(DRAINIT, ["--export-rootfs", join(blocker, "root")], { encoding: "utf8" });
    expect(io.status).toBe(1);
    expect(io.stderr).toMatch(/^drainit: --export-rootfs: cannot create .*a-file.*\n$/);
    for (const args of [["--export-rootfs", work, "--as", "drainit"], ["--as", "/x", "sh"], ["--export-rootfs", work, "sh"]]) {
      const usage = spawnSync(DRAINIT, args, { encoding: "utf8" });
      expect(usage.status).toBe(2);
      expect(usage.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("drainit as PID 1 in a root made of the export plus a static app", () => {
  it("starts, is PID 1, and passes the exit code on", async () => {
    const result = await runToExit(["/bin/sh", "-c", 'echo "pid=$$ ppid=$PPID"; exit 7'], options());
    expect(result.stderr).not.toMatch(/error|panic/i);
    expect(result.stdout).toContain("ppid=1");
    expect(result.code).toBe(7);
  });

  it("forwards SIGTERM to the app", async () => {
    const run = runInit(["sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"], options());
    try {
      await run.waitForOutput(/ready/);
      await run.signal("SIGTERM");
      const result = await run.finished;
      expect(result.stdout).toContain("got-term");
      expect(result.code).toBe(3);
    } finally {
      run.kill();
    }
  });

  it("reaps orphans that are reparented to it", async () => {
    // Each subshell exits at once, so its sleep is orphaned to PID 1 and must be reaped there.
    const run = runInit(["sh", "-c", "for i in 1 2 3 4 5; do (sleep 0.2 &); done; echo spawned; exec sleep 60"], options());
    try {
      await run.waitForOutput(/spawned/);
      const init = await run.initPid();
      // The five orphans appear as drainit's children, exit, and are reaped: one child (the app) is left.
      await waitFor(() => (childrenOf(init).length === 1 ? true : null), 10_000, "orphans to be reaped");
      await sleep(300);
      const children = childrenOf(init);
      expect(children).toHaveLength(1);
      expect(children.filter(isZombie)).toEqual([]);
      await run.signal("SIGTERM");
      expect((await run.finished).code).toBe(143);
    } finally {
      run.kill();
    }
  });

  it("drains: runs the hook, creates the drain file, forwards the stop signal after --drain", async () => {
    const run = runInit(
      [
        "--drain", "1s",
        "--drain-file", "/tmp/draining",
        "--drain-hook", "touch /tmp/hook-ran",
        "--", "sh", "-c", "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
      ],
      options(),
    );
    try {
      await run.waitForOutput(/ready/);
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      await waitFor(() => (existsSync(join(root, "tmp", "draining")) ? true : null), 5_000, "the drain file");
      await waitFor(() => (existsSync(join(root, "tmp", "hook-ran")) ? true : null), 5_000, "the drain hook");
      // Still serving during the drain: the app has not seen TERM yet.
      expect(run.stdout).not.toContain("got-term");
      const result = await run.finished;
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
      expect(result.stdout).toContain("got-term");
      expect(result.code).toBe(0);
      const forwardedMs = Number(/forwarded_ms=(\d+)/.exec(result.stderr)?.[1]);
      expect(forwardedMs).toBeGreaterThanOrEqual(1000);
      expect(existsSync(join(root, "tmp", "draining"))).toBe(false);
    } finally {
      run.kill();
    }
  });
});

describe("the exported root's network path", () => {
  it("resolves a host name from /etc/hosts and POSTs the drain hook: nothing loaded later is missing", async () => {
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc", "hosts"), "127.0.0.1 localhost drainit-hook-host\n");
    const posts: string[] = [];
    const server = createServer((request, response) => {
      posts.push(`${request.method} ${request.url}`);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const run = runInit(
        ["--drain-hook", `http://drainit-hook-host:${port}/drain`, "--", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"],
        options(),
      );
      try {
        await run.waitForOutput(/ready/);
        await run.signal("SIGTERM");
        const result = await run.finished;
        expect(result.stderr).toMatch(/hook=http\(200\)/);
        expect(posts).toEqual(["POST /drain"]);
        expect(result.code).toBe(0);
      } finally {
        run.kill();
      }
    } finally {
      server.close();
    }
  });
});

describe("drainit without /proc", () => {
  it("does not start the command and fails loudly (the runtime aborts before drainit's code runs)", () => {
    const marker = join(root, "tmp", "started-without-proc");
    const chroot = execFileSync("sh", ["-c", "command -v chroot"], { encoding: "utf8" }).trim();
    const result = spawnSync("unshare", ["--pid", "--fork", "--mount", chroot, root, "/drainit", "/bin/touch", "/tmp/started-without-proc"], {
      encoding: "utf8",
      env: { PATH: "/bin" },
    });
    expect(existsSync(join(root, "proc", "self"))).toBe(false);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/abort/);
    expect(existsSync(marker)).toBe(false);
  });
});
