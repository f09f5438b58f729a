// The endpoints controller: rolling updates of one replica behind a balancer, the way
// Kubernetes does them. For each rollover: start the new instance under the init being
// tested, wait until it is ready, add it to the balancer, then at the same moment send
// SIGTERM to the old instance's init and schedule the old endpoint's removal after a lag.
// Anything still alive after the kill budget gets SIGKILL. Load runs throughout, at a
// constant rate, and for the same time whatever the scenario, so runs are comparable.
import { Instance, sleep } from "./instances.mjs";
import { LoadGenerator, now } from "./load.mjs";

/**
 * @typedef {{ add(instance: Instance): Promise<void> | void,
 *             remove(instance: Instance): Promise<void> | void,
 *             retire?(instance: Instance): Promise<void> }} Balancer
 * `remove` takes an instance out of service; `retire`, once it has exited, frees what
 * the balancer kept for it.
 * @typedef {{ name: string, argv: string[], host: string, port: number, readyUrl: string }} InstanceSpec
 */

/** Every instance still running, so that an interrupted run can clean up by pid. */
const live = new Set();

export function killEveryInstance() {
  for (const instance of live) instance.kill();
}

/**
 * @param {{
 *   spawnSpec: (n: number) => InstanceSpec,
 *   balancer: Balancer,
 *   target: { host: string, port: number },
 *   rollovers: number,
 *   periodMs: number,
 *   lagMs: number | ((rollover: number) => number),
 *   leadMs?: number,
 *   ratePerSecond: number,
 *   keepAlive?: boolean,
 *   budgetMs?: number,
 *   controllerRemoves?: boolean,
 *   onEvent?: (message: string, load: LoadGenerator) => void,
 * }} options
 */
export async function runRollovers(options) {
  const { balancer, rollovers, periodMs, budgetMs = 30_000, leadMs = 500 } = options;
  // A constant lag, or one per rollover (drawn at random, say).
  const lagOf = typeof options.lagMs === "function" ? options.lagMs : () => options.lagMs;
  const say = (message) => options.onEvent?.(message, load);
  const start = async (n) => {
    const instance = new Instance(options.spawnSpec(n));
    live.add(instance);
    instance.exited.then(() => live.delete(instance));
    await instance.ready();
    return instance;
  };

  const rolloverResults = [];
  const pending = [];
  /** @type {Instance | undefined} */
  let current;
  const load = new LoadGenerator({
    ...options.target,
    ratePerSecond: options.ratePerSecond,
    keepAlive: options.keepAlive ?? false,
  });
  try {
    current = await start(0);
    await balancer.add(current);
    load.start(leadMs + rollovers * periodMs);
    for (let i = 1; i <= rollovers; i++) {
      await sleep(load.startedAt + leadMs + (i - 1) * periodMs - now());
      const startedAt = now();
      const next = await start(i);
      await balancer.add(next);
      const old = current;
      current = next;
      old.terminate();
      const readyMs = Math.round(now() - startedAt);
      const lagMs = lagOf(i);
      const removed =
        options.controllerRemoves === false ? Promise.resolve() : sleep(lagMs).then(() => balancer.remove(old));
      const killTimer = setTimeout(() => old.kill(), budgetMs);
      const exited = old.exited.then((exit) => {
        clearTimeout(killTimer);
        return exit;
      });
      pending.push(
        Promise.all([exited, removed]).then(async ([exit]) => {
          await balancer.retire?.(old);
          const stopMs = exit.at - old.terminatedAt;
          say(
            `rollover ${i}/${rollovers}: new instance ready in ${readyMs} ms; old one exited ` +
              `${(stopMs / 1000).toFixed(2)} s after SIGTERM${old.killed ? " (SIGKILL)" : ""}` +
              (options.controllerRemoves === false ? "" : `, left the balancer ${lagMs / 1000} s after it`),
          );
          rolloverResults.push({
            lagMs,
            sigtermAt: old.terminatedAt,
            exitAt: exit.at,
            sigtermToExitMs: stopMs,
            code: exit.code,
            signal: exit.signal,
            killed: old.killed,
            timeline: old.timeline(),
          });
        }),
      );
    }
    const records = await load.finished();
    await Promise.all(pending);
    rolloverResults.sort((a, b) => a.sigtermAt - b.sigtermAt);
    return { startedAt: load.startedAt, records, rollovers: rolloverResults };
  } finally {
    if (load.timer) await load.stop();
    if (current) {
      await balancer.remove(current);
      current.kill();
    }
    killEveryInstance();
  }
}
