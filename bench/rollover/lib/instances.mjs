// Instances of the app, each started under the init being tested, as plain processes.
// Every instance gets a loopback address of its own (127.a.b.c, fixed port), so an old
// instance's address is never taken over by a new one while a balancer still points at it.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { get } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { now } from "./load.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const DRAINIT = join(ROOT, "dist", "drainit");
export const APP = join(dirname(fileURLToPath(import.meta.url)), "app.mjs");

/** Hands out loopback addresses unlikely to collide with another run's. */
export class AddressPool {
  constructor() {
    this.network = [10 + Math.floor(Math.random() * 240), Math.floor(Math.random() * 200)];
    // Below the ephemeral port range, so no outgoing connection can be holding it.
    this.appPort = 10_000 + 2 * Math.floor(Math.random() * 10_000);
    this.healthPort = this.appPort + 1;
    this.count = 0;
  }

  /** @returns {{ host: string, appPort: number, healthPort: number }} */
  take() {
    const n = this.count++;
    const host = `127.${this.network[0]}.${this.network[1] + Math.floor(n / 250)}.${(n % 250) + 1}`;
    return { host, appPort: this.appPort, healthPort: this.healthPort };
  }
}

export class Instance {
  /**
   * @param {{ name: string, argv: string[], host: string, port: number,
   *           readyUrl: string, env?: NodeJS.ProcessEnv }} options
   */
  constructor(options) {
    this.name = options.name;
    this.host = options.host;
    this.port = options.port;
    this.readyUrl = options.readyUrl;
    this.stderr = "";
    this.terminatedAt = null;
    this.killed = false;
    const [command, ...args] = options.argv;
    // A session of its own: a Ctrl-C on the terminal reaches the harness only,
    // which then cleans up every instance by pid.
    this.process = spawn(command, args, {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
      env: options.env ?? process.env,
    });
    this.pid = this.process.pid;
    this.process.stderr.setEncoding("utf8").on("data", (chunk) => (this.stderr += chunk));
    /** @type {Promise<{ code: number | null, signal: string | null, at: number }>} */
    this.exited = new Promise((resolve) => {
      this.process.on("error", (error) => {
        this.stderr += `${error.message}\n`;
        resolve({ code: null, signal: null, at: now() });
      });
      this.process.on("exit", (code, signal) => resolve({ code, signal, at: now() }));
    });
    this.exitedYet = false;
    this.exited.then(() => (this.exitedYet = true));
  }

  /** Polls its readiness URL until it answers 200. */
  async ready(timeoutMs = 10_000) {
    const deadline = now() + timeoutMs;
    while (now() < deadline) {
      if (this.exitedYet) throw new Error(`${this.name} exited before it was ready: ${this.stderr.trim()}`);
      if ((await httpStatus(this.readyUrl)) === 200) return;
      await sleep(20);
    }
    throw new Error(`${this.name} was not ready after ${timeoutMs} ms: ${this.stderr.trim()}`);
  }

  terminate() {
    this.terminatedAt = now();
    signalPid(this.pid, "SIGTERM");
  }

  /** SIGKILL the instance and everything it started. */
  kill() {
    if (this.exitedYet && descendantsOf(this.pid).length === 0) return;
    this.killed = true;
    for (const pid of [this.pid, ...descendantsOf(this.pid)]) signalPid(pid, "SIGKILL");
  }

  /** drainit's last timeline line, if it printed one. */
  timeline() {
    return this.stderr.split("\n").filter((line) => line.includes("timeline")).pop() ?? null;
  }
}

/** @param {string} url @returns {Promise<number>} the status, or 0 when there was no answer */
function httpStatus(url, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const outgoing = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on("timeout", () => outgoing.destroy());
    outgoing.on("error", () => resolve(0));
  });
}

/** Pids below `root` in the process tree (children, grandchildren, …), from /proc. */
function descendantsOf(root) {
  const parentOf = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const children = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([pid]) => pid);
    found.push(...children);
    frontier = children;
  }
  return found;
}

/** @param {number} pid @param {NodeJS.Signals} signal */
function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
