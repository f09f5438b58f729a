// HAProxy as the load balancer: a backend of pre-declared server slots, all in
// maintenance at first, driven at run time through the admin stats socket
// (`set server be/sN addr …`, `set server be/sN state ready|maint`).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "./instances.mjs";
import { now } from "./load.mjs";

const SLOTS = 8;

export class HaproxyBalancer {
  /**
   * @param {{ frontend: { host: string, port: number }, retries: boolean,
   *           healthCheckPort?: number }} options
   * Without retries (the primary setting) HAProxy behaves like kube-proxy or an NLB:
   * a request sent to a dead endpoint fails. With `healthCheckPort`, every slot is
   * health-checked (`check inter 1s fall 2`) on that port's GET /healthz.
   */
  constructor(options) {
    this.options = options;
    this.frontend = options.frontend;
    this.dir = mkdtempSync(join(tmpdir(), "drainit-haproxy-"));
    this.socketPath = join(this.dir, "admin.sock");
    /** @type {Map<object, string>} instance → slot name */
    this.slotOf = new Map();
    this.freeSlots = Array.from({ length: SLOTS }, (_, i) => `s${i + 1}`);
    this.process = null;
    this.stderr = "";
  }

  config() {
    const { frontend, retries, healthCheckPort } = this.options;
    const check = healthCheckPort ? ` check port ${healthCheckPort} inter 1s fall 2 rise 1` : "";
    return [
      "global",
      `  stats socket ${this.socketPath} mode 600 level admin`,
      "  maxconn 4096",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 30s",
      "  timeout server 30s",
      "  timeout http-keep-alive 10s",
      ...(retries
        ? ["  retries 3", "  option redispatch 1", "  retry-on conn-failure empty-response response-timeout"]
        : ["  retries 0", "  no option redispatch"]),
      "frontend fe",
      `  bind ${frontend.host}:${frontend.port}`,
      "  default_backend be",
      "backend be",
      "  balance roundrobin",
      ...(healthCheckPort ? ["  option httpchk GET /healthz", "  http-check expect status 200"] : []),
      ...Array.from({ length: SLOTS }, (_, i) => `  server s${i + 1} 127.0.0.1:1 disabled${check}`),
      "",
    ].join("\n");
  }

  async start() {
    const file = join(this.dir, "haproxy.cfg");
    writeFileSync(file, this.config());
    this.process = spawn("haproxy", ["-db", "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
    this.process.stderr.setEncoding("utf8").on("data", (chunk) => (this.stderr += chunk));
    let spawnError = null;
    this.process.on("error", (error) => (spawnError = error));
    const exited = new Promise((resolve) => this.process.on("exit", resolve));
    const deadline = now() + 10_000;
    for (;;) {
      try {
        await this.command("show info");
        return;
      } catch {
        if (spawnError) throw new Error(`cannot start haproxy: ${spawnError.message}`);
        if (this.process.exitCode !== null || now() > deadline) {
          await Promise.race([exited, sleep(100)]);
          throw new Error(`haproxy did not start: ${this.stderr.trim()}`);
        }
        await sleep(50);
      }
    }
  }

  /** One command on the admin socket; resolves with its answer. */
  command(line) {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("connect", () => socket.end(`${line}\n`));
      socket.on("data", (chunk) => (answer += chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(answer));
    });
  }

  /** Points a free slot at the instance and puts it in service. */
  async add(instance) {
    const slot = this.freeSlots.shift();
    if (!slot) throw new Error("haproxy: no free server slot");
    this.slotOf.set(instance, slot);
    await this.expectQuiet(`set server be/${slot} addr ${instance.host} port ${instance.port}`);
    await this.expectQuiet(`set server be/${slot} state ready`);
  }

  /** What the endpoints controller does after the lag: out of service at once. */
  async remove(instance) {
    const slot = this.slotOf.get(instance);
    if (!slot) return;
    await this.command(`set server be/${slot} state maint`);
  }

  /**
   * The instance is gone: give its slot back. In the health-check mode the slot is
   * left alone until the checks have marked it down, so that the requests HAProxy
   * sent to it meanwhile are counted, not hidden by an early maintenance.
   */
  async retire(instance) {
    const slot = this.slotOf.get(instance);
    if (!slot) return;
    if (this.options.healthCheckPort) {
      const deadline = now() + 10_000;
      while (now() < deadline && !/^DOWN|^MAINT/.test(await this.status(slot))) await sleep(100);
    }
    await this.command(`set server be/${slot} state maint`);
    this.slotOf.delete(instance);
    this.freeSlots.push(slot);
  }

  /** The slot's status column of `show stat`: UP, DOWN, MAINT, "no check"… */
  async status(slot) {
    const csv = await this.command("show stat -1 4 -1");
    const [header, ...rows] = csv.trim().split("\n");
    const columns = header.replace(/^# /, "").split(",");
    const row = rows.map((r) => r.split(",")).find((r) => r[columns.indexOf("svname")] === slot);
    return row?.[columns.indexOf("status")] ?? "";
  }

  async expectQuiet(line) {
    const answer = (await this.command(line)).trim();
    // HAProxy answers these with nothing, or a line saying what changed.
    if (/error|unknown|invalid|require/i.test(answer)) throw new Error(`haproxy: ${line}: ${answer}`);
  }

  async stop() {
    if (this.process?.pid && this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) => this.process.on("exit", resolve));
      this.process.kill("SIGKILL");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For a process that is exiting now: no waiting, no event loop. */
  stopNow() {
    if (this.process?.pid && this.process.exitCode === null) this.process.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
