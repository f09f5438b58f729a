// The private container engines of scripts/engine-start.sh, seen from the tests: clients for the
// two dockerd instances and podman, offline image builds, containers removed after each test.
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, symlinkSync, mkdirSync, readFileSync, lstatSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realpathSync } from "node:fs";
import { afterAll, afterEach, beforeAll } from "vitest";
import { processState } from "../../src/sys/proc.ts";
import { DRAINIT, ROOT, freePort, sleep } from "../e2e/harness.ts";

export { DRAINIT, ROOT, freePort, sleep };

/** The engine directory: the same rule as scripts/engine-env.sh. */
const ENGINE_DIR =
  process.env.DRAINIT_ENGINE_DIR ??
  join(process.env.TMPDIR ?? "/tmp", `drainit-engine-${createHash("sha256").update(realpathSync(ROOT)).digest("hex").slice(0, 12)}`);

/** The client of the docker.io package (the daemon's own version, BuildKit built in). */
const DOCKER_CLIENT = "/usr/bin/docker";
const BUSYBOX = "/bin/busybox";
/** Every container the tests make carries this label; scripts/engine-stop.sh removes them all anyway. */
const LABEL = "drainit-test=1";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Why an engine is not there, in one line: the reason engine-start.sh wrote, or what to run. */
function whyNotRunning(name: string, what: string): string {
  const failed = join(ENGINE_DIR, name, "failed");
  if (existsSync(failed)) return `${what} could not be started: ${readFileSync(failed, "utf8").trim()}`;
  const state = name === "podman" ? "is not set up" : "is not running";
  return `${what} ${state} (${ENGINE_DIR}/${name}): start it with scripts/engine-start.sh`;
}

function pidAlive(pidFile: string, word: string): boolean {
  try {
    const pid = readFileSync(pidFile, "utf8").trim();
    const state = processState(Number(pid));
    return state !== null && state !== "Z" && state !== "X" && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(word);
  } catch {
    return false;
  }
}

/** A container engine with a docker-compatible command line (docker or podman). */
export class Engine {
  private readonly made = new Set<string>();
  private static serial = 0;

  constructor(
    readonly name: string,
    readonly command: string,
    private readonly globalArgs: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Runs the client; resolves with its exit code and output, whatever it is. */
  cli(args: string[], timeoutMs = 120_000): Promise<Result> {
    return run(this.command, [...this.globalArgs, ...args], this.env, timeoutMs);
  }

  /** Runs the client and throws with its stderr when it fails. */
  async ok(args: string[], timeoutMs = 120_000): Promise<string> {
    const result = await this.cli(args, timeoutMs);
    if (result.code !== 0) throw new Error(`${this.name} ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** The command line that runs this engine's client (for a terminal: tmux). */
  argv(args: string[]): { argv: string[]; env: Record<string, string> } {
    const env: Record<string, string> = {};
    for (const key of ["DOCKER_HOST", "DOCKER_BUILDKIT", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"]) {
      if (this.env[key]) env[key] = this.env[key]!;
    }
    return { argv: [this.command, ...this.globalArgs, ...args], env };
  }

  /** A fresh container name, removed after the test file by cleanUp(). */
  containerName(what: string): string {
    const name = `drainit-${what}-${process.pid}-${++Engine.serial}`;
    this.made.add(name);
    return name;
  }

  /** `run` with the test label, on the host network unless `args` name a network. */
  runArgs(name: string, args: string[]): string[] {
    const network = args.some((arg) => arg === "--network" || arg.startsWith("--network=")) ? [] : ["--network", "host"];
    return ["run", "--name", name, "--label", LABEL, ...network, ...args];
  }

  /** Starts a container in the background; resolves with its name. */
  async start(what: string, args: string[]): Promise<string> {
    const name = this.containerName(what);
    await this.ok(this.runArgs(name, ["-d", ...args]));
    return name;
  }

  /** Runs a container to its end; resolves with its exit code and output. */
  async runToEnd(what: string, args: string[], timeoutMs = 60_000): Promise<Result> {
    const name = this.containerName(what);
    return this.cli(this.runArgs(name, args), timeoutMs);
  }

  async exitCode(name: string): Promise<number> {
    return Number((await this.ok(["inspect", "-f", "{{.State.ExitCode}}", name])).trim());
  }

  async running(name: string): Promise<boolean> {
    return (await this.cli(["inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";
  }

  /** Waits for the container to exit; resolves with its exit code. */
  async wait(name: string, timeoutMs = 60_000): Promise<number> {
    return Number((await this.ok(["wait", name], timeoutMs)).trim());
  }

  /** The container's stdout and stderr so far, each on its own. */
  async logs(name: string): Promise<{ stdout: string; stderr: string }> {
    const result = await this.cli(["logs", name]);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  async waitForLog(name: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { stdout, stderr } = await this.logs(name);
      const match = pattern.exec(stdout + stderr);
      if (match) return match[0];
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}'s log to match ${pattern}: ${JSON.stringify(stdout + stderr)}`);
      await sleep(50);
    }
  }

  /** Follows the container's output (stdout and stderr together) as it comes. */
  follow(name: string): { output: () => string; waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<boolean>; stop: () => void } {
    const child = spawn(this.command, [...this.globalArgs, "logs", "-f", name], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    return {
      output: () => text,
      /** Resolves true once the output matches, false when the time is up. */
      waitFor: async (pattern, timeoutMs = 2_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!pattern.test(text)) {
          if (Date.now() > deadline) return false;
          await sleep(5);
        }
        return true;
      },
      stop: () => child.kill("SIGKILL"),
    };
  }

  /** Removes every container this process made. */
  async cleanUp(): Promise<void> {
    const names = [...this.made];
    this.made.clear();
    if (names.length) await this.cli(["rm", "-f", ...names]);
  }

  /**
   * Builds an image from a context directory unless an image of that tag was built from the
   * same context already (its digest is kept in a label): the bases are built once and reused.
   */
  async build(tag: string, context: string, buildArgs: Record<string, string> = {}, extra: string[] = []): Promise<void> {
    // A build argument that names a local image stands for that image's id.
    const resolved: Record<string, string> = {};
    for (const [key, value] of Object.entries(buildArgs)) {
      const id = await this.cli(["image", "inspect", "-f", "{{.Id}}", value]);
      resolved[key] = id.code === 0 ? id.stdout.trim() : value;
    }
    const digest = contextDigest(context, resolved);
    const inspected = await this.cli(["image", "inspect", "-f", '{{index .Config.Labels "drainit.test.context"}}', tag]);
    if (inspected.code === 0 && inspected.stdout.trim() === digest) return;
    const args = ["build", "--network", "host", "-q", "-t", tag, "--label", `drainit.test.context=${digest}`];
    for (const [key, value] of Object.entries(buildArgs)) args.push("--build-arg", `${key}=${value}`);
    await this.ok([...args, ...extra, context], 600_000);
  }
}

/** A digest of every file (path, mode, content) under `dir`, and the build arguments. */
function contextDigest(dir: string, buildArgs: Record<string, string>): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(buildArgs));
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
  for (const name of files) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    hash.update(`${name}\0${stat.mode}\0`);
    if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (stat.isFile()) hash.update(readFileSync(path));
  }
  return hash.digest("hex").slice(0, 16);
}

/** The dockerd with Docker's own init ("docker") or the one whose init-path is drainit. */
/**
 * Stops a running container as an init's user would and reports what the engine saw: how long
 * the stop took, the container's exit code, and everything it wrote.
 */
export async function stopAndObserve(
  engine: Engine,
  name: string,
  stopArgs: string[] = [],
): Promise<{ stopMs: number; code: number; output: string }> {
  const stopAt = Date.now();
  await engine.ok(["stop", ...stopArgs, name]);
  const stopMs = Date.now() - stopAt;
  const { stdout, stderr } = await engine.logs(name);
  return { stopMs, code: await engine.exitCode(name), output: stdout + stderr };
}

export function docker(name: "docker" | "docker-drainit-init" = "docker"): Engine {
  const dir = join(ENGINE_DIR, name);
  const what = name === "docker" ? "dockerd" : "dockerd (init-path drainit)";
  if (!pidAlive(join(dir, "dockerd.pid"), "dockerd")) throw new Error(whyNotRunning(name, what));
  return new Engine(name, DOCKER_CLIENT, [], {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    DOCKER_HOST: `unix://${join(dir, "docker.sock")}`,
    DOCKER_BUILDKIT: "1",
  });
}

export function podman(): Engine {
  const dir = join(ENGINE_DIR, "podman");
  if (!existsSync(join(dir, "containers.conf")) || existsSync(join(dir, "failed"))) {
    throw new Error(whyNotRunning("podman", "podman"));
  }
  return new Engine("podman", "podman", [], {
    PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ""}`,
    HOME: process.env.HOME ?? "/root",
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
  });
}

/**
 * For a test file: the engine, checked once, then `prepare` (the image builds) before the tests.
 * An engine that is missing or a build that fails makes every test fail with that one reason
 * (a failing beforeAll would only mark them skipped). Every container made is removed after each test.
 */
export function useEngine(make: () => Engine, prepare: (engine: Engine) => Promise<void> = buildTestImages): () => Engine {
  let engine: Engine | null = null;
  let error: Error | null = null;
  try {
    engine = make();
  } catch (caught) {
    error = caught as Error;
  }
  beforeAll(async () => {
    if (!engine) return;
    try {
      await prepare(engine);
    } catch (caught) {
      error = new Error(`building the test images on ${engine.name} failed: ${(caught as Error).message.split("\n")[0]}`);
    }
  }, 600_000);
  afterEach(async () => engine?.cleanUp());
  afterAll(async () => engine?.cleanUp());
  return () => {
    if (error) throw error;
    return engine!;
  };
}


/**
 * Writes drainit's --export-rootfs output (drainit, its loader, its libraries) into `dir`/rootfs,
 * unless `glibc` is false, plus a static busybox whose applets are linked in /bin.
 */
export function writeRootfs(dir: string, { drainit = true } = {}): void {
  const rootfs = join(dir, "rootfs");
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  if (drainit) {
    const result = spawnSync(DRAINIT, ["--export-rootfs", rootfs], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`drainit --export-rootfs: ${result.stderr}`);
  }
  copyFileSync(BUSYBOX, join(rootfs, "bin", "busybox"));
  // The applets as links made here: a RUN step would need the engine's default rlimits to be allowed.
  const applets = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" }).stdout.trim().split("\n");
  for (const applet of applets) {
    if (applet && applet !== "busybox") symlinkSync("busybox", join(rootfs, "bin", applet));
  }
  mkdirSync(join(rootfs, "tmp"), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777);
  mkdirSync(join(rootfs, "www"), { recursive: true });
  writeFileSync(join(rootfs, "www", "index.html"), "ok\n");
}

/** The Dockerfile of an image made of `rootfs/` and the busybox applets. */
export const ROOTFS_DOCKERFILE = "FROM scratch\nCOPY rootfs/ /\n";

/**
 * The test images every file shares, built once (cached by context digest):
 *   drainit-test/drainit   scratch + drainit --export-rootfs + busybox, ENTRYPOINT drainit
 *   drainit-test/busybox-glibc   the same without the ENTRYPOINT (glibc, for docker run --init)
 *   drainit-test/busybox   scratch + busybox alone (no glibc)
 *   drainit-test/tini      scratch + busybox + tini-static as ENTRYPOINT
 */
export async function buildTestImages(engine: Engine): Promise<void> {
  const shared = join(tmpdir(), `drainit-test-images-${process.pid}`);
  try {
    const withDrainit = join(shared, "drainit");
    mkdirSync(withDrainit, { recursive: true });
    writeRootfs(withDrainit);
    writeFileSync(join(withDrainit, "Dockerfile"), `${ROOTFS_DOCKERFILE}ENTRYPOINT ["/drainit"]\n`);
    writeFileSync(join(withDrainit, "Dockerfile.glibc"), ROOTFS_DOCKERFILE);
    const plain = join(shared, "busybox");
    mkdirSync(plain, { recursive: true });
    writeRootfs(plain, { drainit: false });
    writeFileSync(join(plain, "Dockerfile"), ROOTFS_DOCKERFILE);
    const tini = join(shared, "tini");
    mkdirSync(tini, { recursive: true });
    writeRootfs(tini, { drainit: false });
    copyFileSync("/usr/bin/tini-static", join(tini, "rootfs", "tini"));
    writeFileSync(join(tini, "Dockerfile"), `${ROOTFS_DOCKERFILE}ENTRYPOINT ["/tini", "--"]\n`);
    await engine.build("drainit-test/drainit", withDrainit);
    await engine.build("drainit-test/busybox-glibc", withDrainit, {}, ["-f", join(withDrainit, "Dockerfile.glibc")]);
    await engine.build("drainit-test/busybox", plain);
    await engine.build("drainit-test/tini", tini);
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
}

/** Keeps a finding of these runs for the README's table: ENGINE_DIR/results/<name>.txt. */
export function keepResult(name: string, text: string): void {
  const dir = join(ENGINE_DIR, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.txt`), text.endsWith("\n") ? text : `${text}\n`);
}

/** One GET on a fresh connection: the status, or 0 when no answer came (refused, reset, timeout). */
export function httpStatus(port: number, path = "/", timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Polls GET until it answers `status`; resolves with the time it did (Date.now()). */
export async function waitForStatus(port: number, path: string, status: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await httpStatus(port, path, 500)) === status) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for GET ${path} on port ${port} to answer ${status}`);
    await sleep(20);
  }
}
