// npm run build:all: both architectures, reproducible, and the arm64 one runs (under qemu-user,
// with Debian's arm64 glibc as its sysroot) as PID 1. Then the npm tarballs made from that build,
// installed offline: node_modules/.bin/drainit is the executable itself, PID 1 with no Node.js.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELPERS, ROOT, childrenOf, runInit, runToExit, waitFor } from "./harness.ts";

const QEMU = "qemu-aarch64-static";
const SYSROOT = "/usr/aarch64-linux-gnu";
// Emulated start-up of a 100 MB executable takes seconds.
const EMULATED_MS = 120_000;

let first: string;
let second: string;
let sourcesStable = false;

/** A digest of everything the executable is built from. */
function sourceDigest(): string {
  const hash = createHash("sha256");
  const files = [
    ...readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).map((name) => join("src", name)),
    "package.json",
    "package-lock.json",
  ].sort();
  for (const name of files) {
    const path = join(ROOT, name);
    if (!statSync(path).isFile()) continue;
    hash.update(name).update(readFileSync(path));
  }
  return hash.digest("hex");
}

function buildAll(outdir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, "scripts", "build-all.mjs"), outdir], (error) => (error ? reject(error) : resolve()));
  });
}

beforeAll(async () => {
  first = mkdtempSync(join(tmpdir(), "drainit-build-a-"));
  second = mkdtempSync(join(tmpdir(), "drainit-build-b-"));
  // Fetch the arm64 runtime once, then build twice at the same time: the same sources, twice.
  const fetchRuntime = `import(${JSON.stringify(join(ROOT, "scripts", "bun-runtime.mjs"))}).then((m) => m.bunRuntimeFor("arm64"))`;
  execFileSync(process.execPath, ["--input-type=module", "-e", fetchRuntime], { stdio: ["ignore", "ignore", "inherit"] });
  // Two builds can only be compared if nobody edited the sources in between; try again if they did.
  for (let attempt = 0; attempt < 3 && !sourcesStable; attempt++) {
    const before = sourceDigest();
    await Promise.all([buildAll(first), buildAll(second)]);
    sourcesStable = sourceDigest() === before;
  }
  execFileSync(process.execPath, [join(ROOT, "scripts", "pack-npm.mjs"), first], { stdio: ["ignore", "ignore", "inherit"] });
}, 600_000);

afterAll(() => {
  rmSync(first, { recursive: true, force: true });
  rmSync(second, { recursive: true, force: true });
});

describe("npm run build:all", () => {
  it("builds x64 and arm64 executables with checksums, identical from one run to the next", () => {
    expect(sourcesStable, "the sources kept changing during the builds").toBe(true);
    const sums = readFileSync(join(first, "SHA256SUMS"), "utf8");
    expect(sums).toMatch(/^[0-9a-f]{64}  drainit-linux-x64\n[0-9a-f]{64}  drainit-linux-arm64\n$/);
    expect(readFileSync(join(second, "SHA256SUMS"), "utf8")).toBe(sums);
    // The sums are those of the files, as sha256sum checks them.
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: first, encoding: "utf8" });
    expect(check.status).toBe(0);
    expect(execFileSync("file", ["-b", join(first, "drainit-linux-x64")], { encoding: "utf8" })).toMatch(/ELF 64-bit.*x86-64/);
    expect(execFileSync("file", ["-b", join(first, "drainit-linux-arm64")], { encoding: "utf8" })).toMatch(/ELF 64-bit.*aarch64/);
  });

  it("x64: --version names the version, the Bun version and the target", () => {
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
    expect(execFileSync(join(first, "drainit-linux-x64"), ["--version"], { encoding: "utf8" })).toBe(
      `drainit ${version} (bun 1.4.5, linux-x64)\n`,
    );
  });
});

describe("the linux-arm64 executable under qemu-user", () => {
  const arm64 = () => join(first, "drainit-linux-arm64");

  it("prints its version and target", () => {
    const out = execFileSync(QEMU, ["-L", SYSROOT, arm64(), "--version"], { encoding: "utf8", timeout: EMULATED_MS });
    expect(out).toMatch(/^drainit \S+ \(bun 1\.4\.5, linux-arm64\)\n$/);
  }, EMULATED_MS);

  it("sleeps with --sleep and exits 0", () => {
    const started = Date.now();
    const result = spawnSync(QEMU, ["-L", SYSROOT, arm64(), "--sleep", "1500ms"], { encoding: "utf8", timeout: EMULATED_MS });
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  }, EMULATED_MS);

  // qemu-user hands a child's execve to the kernel, so the child (sh) is this machine's own:
  // what runs under emulation is drainit — spawn, wait, exit-code passthrough, PID 1.
  it("as PID 1, passes the child's exit code on", async () => {
    const args = ["-L", SYSROOT, arm64(), "sh", "-c", 'echo "ppid=$PPID"; exit 7'];
    const result = await runToExit(args, { binary: QEMU }, EMULATED_MS);
    expect(result.stdout).toContain("ppid=1");
    expect(result.code).toBe(7);
  }, EMULATED_MS);

  it("as PID 1, forwards SIGTERM", async () => {
    const run = runInit(["-L", SYSROOT, arm64(), "sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.05; done"], {
      binary: QEMU,
    });
    try {
      await run.waitForOutput(/ready/, "stdout", EMULATED_MS);
      const init = await run.initPid();
      expect(childrenOf(init)).toHaveLength(1);
      await run.signal("SIGTERM");
      expect((await run.finished).code).toBe(3);
    } finally {
      run.kill();
    }
  }, EMULATED_MS);
});

describe("the linux-arm64 executable's own signal handler, under qemu-user", () => {
  const arm64 = () => join(first, "drainit-linux-arm64");

  // Signals the runtime's listeners never see: only the handler built for arm64 (an x64 one
  // would not load, and drainit would say so on stderr) gets them to the app.
  it("as PID 1, forwards RTMIN+3, STKFLT, PWR, RTMAX and kill-sent ABRT and SEGV, and survives them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drainit-arm64-signals-"));
    const file = join(dir, "signals");
    const run = runInit(["-L", SYSROOT, arm64(), "perl", join(HELPERS, "record-all-signals.pl"), file, "42"], {
      binary: QEMU,
    });
    const recorded = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
    try {
      await run.waitForOutput(/ready/, "stdout", EMULATED_MS);
      const sent = [37, 16, 30, 64, 6, 11, 15];
      for (const signal of sent) {
        await run.signal(signal);
        await waitFor(() => (recorded().includes(String(signal)) ? true : null), 20_000, `signal ${signal} at the app`);
      }
      expect((await run.finished).code).toBe(42);
      expect(recorded()).toEqual(sent.map(String));
      expect(run.stderr).not.toMatch(/cannot install its signal handler/);
    } finally {
      run.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, EMULATED_MS);
});

describe("the npm package, installed offline from the packed tarballs", () => {
  const version = () => JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
  const tarball = (name: string) => join(first, "npm", `${name}-${version()}.tgz`);

  /** A project that depends on the local tarballs, installed with no registry. */
  function install(extraArgs: string[] = []): string {
    const app = mkdtempSync(join(tmpdir(), "drainit-npm-app-"));
    const main = tarball("drainit");
    // npm 12 runs an install script only when allowScripts covers it; a local tarball is named by its spec.
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", private: true, allowScripts: { drainit: true, [`file:${main}`]: true } }),
    );
    const platform = tarball(`drainit-linux-${process.arch}`);
    const result = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", ...extraArgs, main, platform], {
      cwd: app,
      encoding: "utf8",
      timeout: 300_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return app;
  }

  const apps: string[] = [];
  afterAll(() => {
    for (const app of apps) rmSync(app, { recursive: true, force: true });
  });

  it("packs the drainit package and one package per platform", () => {
    const listing = execFileSync("tar", ["-tzf", tarball("drainit")], { encoding: "utf8" }).trim().split("\n").sort();
    expect(listing).toEqual(["package/README.md", "package/bin/drainit", "package/install.js", "package/package.json"]);
    for (const arch of ["x64", "arm64"]) {
      const manifest = JSON.parse(
        execFileSync("tar", ["-xzOf", tarball(`drainit-linux-${arch}`), "package/package.json"], { encoding: "utf8" }),
      );
      expect(manifest).toMatchObject({ name: `@drainit/linux-${arch}`, version: version(), os: ["linux"], cpu: [arch] });
    }
  });

  it("puts the native executable at node_modules/.bin/drainit and runs it as PID 1", async () => {
    const app = install();
    apps.push(app);
    const bin = join(app, "node_modules", ".bin", "drainit");
    const head = readFileSync(bin).subarray(0, 4);
    expect([...head]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(readFileSync(realpathSync(bin)).equals(readFileSync(join(first, `drainit-linux-${process.arch}`)))).toBe(true);

    const run = runInit(["sh", "-c", "echo ppid=$PPID; trap 'exit 4' TERM; echo ready; while :; do sleep 0.05; done"], { binary: bin });
    try {
      await run.waitForOutput(/ready/);
      // PID 1 is the executable itself, not node running a shim.
      const init = await run.initPid();
      expect(realpathSync(readlinkSync(`/proc/${init}/exe`))).toBe(realpathSync(bin));
      expect(run.stdout).toContain("ppid=1");
      await run.signal("SIGTERM");
      expect((await run.finished).code).toBe(4);
    } finally {
      run.kill();
    }
  }, 300_000);

  it("without its install script, the stub says how to finish and exits 1; install.js finishes", () => {
    const app = install(["--ignore-scripts"]);
    apps.push(app);
    const bin = join(app, "node_modules", ".bin", "drainit");
    const stub = spawnSync(bin, ["--version"], { encoding: "utf8" });
    expect(stub.status).toBe(1);
    expect(stub.stdout).toBe("");
    expect(stub.stderr).toMatch(/^drainit: the native executable is not installed .*install\.js\)\n$/);
    execFileSync(process.execPath, [join(app, "node_modules", "drainit", "install.js")]);
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" })).toMatch(/^drainit \S+ \(bun 1\.4\.5, linux-/);
  }, 300_000);
});
