// What each platform does when it stops a container: which signal, and how long before SIGKILL.
// `--platform NAME` takes these as the default --budget and an additional --stop-signal; `auto`
// detects the platform from the variables it sets. Explicit options always win. Pure.
import { UsageError, type Config } from "../config.ts";
import { SIGNALS, signalName } from "../signals.ts";
import { worstCaseStopMs } from "../supervisor/stop-plan.ts";

export const PLATFORM_NAMES = ["kubernetes", "ecs", "fly", "nomad", "cloudrun", "docker", "heroku"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

export interface Platform {
  name: PlatformName;
  /** As people write it. */
  title: string;
  /** The signal the platform sends first, by default. */
  stopSignal: "TERM" | "INT";
  /** How long after it the platform sends SIGKILL, by default. */
  killDeadlineMs: number;
  /** The most the deadline can be raised to, where there is a cap. */
  maxDeadlineMs: number | null;
  /** Where the deadline is set; null when it cannot be changed. */
  setting: string | null;
  /** The variable the platform sets in every container, for `auto`; null: not detectable. */
  detectedBy: string | null;
  /** The platform signals every process of the container, not just PID 1. */
  signalsEveryProcess: boolean;
  /** Where each figure comes from. */
  source: string;
}

/** The defaults, each from the platform's own documentation (see `source`). */
export const PLATFORMS: Readonly<Record<PlatformName, Platform>> = {
  kubernetes: {
    name: "kubernetes",
    title: "Kubernetes",
    stopSignal: "TERM",
    killDeadlineMs: 30_000,
    maxDeadlineMs: null,
    setting: "terminationGracePeriodSeconds (pod spec)",
    detectedBy: "KUBERNETES_SERVICE_HOST",
    signalsEveryProcess: false,
    source: "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination",
  },
  ecs: {
    name: "ecs",
    title: "Amazon ECS",
    stopSignal: "TERM",
    killDeadlineMs: 30_000,
    maxDeadlineMs: 120_000,
    setting: "stopTimeout (container definition; at most 120 s on Fargate)",
    detectedBy: "ECS_CONTAINER_METADATA_URI_V4",
    signalsEveryProcess: false,
    source: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout",
  },
  fly: {
    name: "fly",
    title: "Fly.io",
    stopSignal: "INT",
    killDeadlineMs: 5_000,
    maxDeadlineMs: null,
    setting: "kill_timeout (fly.toml)",
    detectedBy: "FLY_APP_NAME",
    signalsEveryProcess: false,
    source: "https://fly.io/docs/reference/configuration/#runtime-options (kill_signal, kill_timeout)",
  },
  nomad: {
    name: "nomad",
    title: "Nomad",
    stopSignal: "INT",
    killDeadlineMs: 5_000,
    maxDeadlineMs: null,
    setting: "kill_timeout (task block; capped by the client's max_kill_timeout)",
    detectedBy: "NOMAD_ALLOC_ID",
    signalsEveryProcess: false,
    source: "https://developer.hashicorp.com/nomad/docs/job-specification/task (kill_signal, kill_timeout)",
  },
  cloudrun: {
    name: "cloudrun",
    title: "Cloud Run",
    stopSignal: "TERM",
    killDeadlineMs: 10_000,
    maxDeadlineMs: 10_000,
    setting: null,
    detectedBy: "K_SERVICE",
    signalsEveryProcess: false,
    source: "https://cloud.google.com/run/docs/container-contract#instance-shutdown",
  },
  docker: {
    name: "docker",
    title: "Docker",
    stopSignal: "TERM",
    killDeadlineMs: 10_000,
    maxDeadlineMs: null,
    setting: "docker stop --time, or stop_grace_period (Compose)",
    detectedBy: null,
    signalsEveryProcess: false,
    source: "https://docs.docker.com/reference/cli/docker/container/stop/",
  },
  heroku: {
    name: "heroku",
    title: "Heroku",
    stopSignal: "TERM",
    killDeadlineMs: 30_000,
    maxDeadlineMs: 30_000,
    setting: null,
    detectedBy: "DYNO",
    signalsEveryProcess: true,
    source: "https://devcenter.heroku.com/articles/dynos#graceful-shutdown-with-sigterm",
  },
};

/**
 * The order `auto` looks in. Kubernetes before Cloud Run: Knative sets K_SERVICE too, and on a
 * Kubernetes cluster the pod's grace period is what counts.
 */
const DETECTION_ORDER: readonly PlatformName[] = ["ecs", "fly", "nomad", "heroku", "kubernetes", "cloudrun"];

export type Environment = Readonly<Record<string, string | undefined>>;

export type PlatformChoice =
  | { how: "named"; platform: Platform }
  | { how: "detected"; platform: Platform; variable: string }
  | { how: "none-detected" };

/** `--platform` / DRAINIT_PLATFORM: `auto` or a platform's name, in any case. */
export function parsePlatformName(text: string, from: string): PlatformName | "auto" {
  const name = text.trim().toLowerCase();
  if (name === "auto" || (PLATFORM_NAMES as readonly string[]).includes(name)) return name as PlatformName | "auto";
  throw new UsageError(`${from}: '${text}' is not one of auto, ${PLATFORM_NAMES.join(", ")}`);
}

/** The platform a `--platform` value names or, for auto, the environment shows (null: not given). */
export function choosePlatform(name: PlatformName | "auto" | null, env: Environment): PlatformChoice | null {
  if (name === null) return null;
  if (name === "auto") {
    for (const candidate of DETECTION_ORDER) {
      const variable = PLATFORMS[candidate].detectedBy!;
      if (env[variable] !== undefined && env[variable] !== "") {
        return { how: "detected", platform: PLATFORMS[candidate], variable };
      }
    }
    return { how: "none-detected" };
  }
  return { how: "named", platform: PLATFORMS[name] };
}

/** Which options the command line or the environment set explicitly (they win over the platform's). */
export interface ExplicitOptions {
  budget: boolean;
  stopSignal: boolean;
}

export interface PlatformNote {
  level: "info" | "warn";
  message: string;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The config with the platform's defaults where no option was given, and what to log at start. */
export function applyPlatform(
  config: Config,
  choice: PlatformChoice | null,
  explicit: ExplicitOptions,
): { config: Config; notes: PlatformNote[] } {
  if (choice === null) return { config, notes: [] };
  if (choice.how === "none-detected") {
    const looked = DETECTION_ORDER.map((name) => PLATFORMS[name].detectedBy).join(", ");
    return { config, notes: [{ level: "info", message: `--platform auto: no platform detected (none of ${looked} is set); no platform defaults` }] };
  }
  const { platform } = choice;
  const notes: PlatformNote[] = [];
  const stopSignals = new Set(config.stopSignals);
  if (!explicit.stopSignal) stopSignals.add(SIGNALS[platform.stopSignal]!);
  const budgetMs = explicit.budget ? config.budgetMs : platform.killDeadlineMs;
  const applied: Config = { ...config, stopSignals, budgetMs };

  const origin = choice.how === "detected" ? `--platform auto: ${choice.variable} is set` : `--platform ${platform.name}`;
  const budgetFrom = explicit.budget ? "--budget" : `${platform.title}'s default`;
  notes.push({
    level: "info",
    message:
      `${origin}: ${platform.title}; stop signals ${[...stopSignals].map(signalName).join(",")}, ` +
      `budget ${seconds(budgetMs ?? platform.killDeadlineMs)} (${budgetFrom})`,
  });

  if (platform.signalsEveryProcess) {
    notes.push({
      level: "warn",
      message:
        `${platform.title} sends SIGTERM to every process of the container at once, the app included: ` +
        `drainit cannot hold it back, so --drain only delays what drainit forwards; the app must drain on SIGTERM itself`,
    });
  }
  if (platform.maxDeadlineMs !== null && budgetMs !== null && budgetMs > platform.maxDeadlineMs) {
    notes.push({
      level: "warn",
      message: `--budget ${seconds(budgetMs)} is more than ${platform.title} allows (${seconds(platform.maxDeadlineMs)}): it will SIGKILL the container earlier`,
    });
  }
  const worst = worstCaseStopMs(applied);
  const deadline = budgetMs ?? platform.killDeadlineMs;
  if (worst > deadline) {
    const fix = platform.setting
      ? `raise ${platform.setting} above ${seconds(worst)}, or shorten the drain`
      : `${platform.title}'s deadline cannot be raised: shorten the drain`;
    notes.push({
      level: "warn",
      message: `the stop plan (${seconds(worst)}) does not fit ${platform.title}'s kill deadline of ${seconds(deadline)}: ${fix}`,
    });
  }
  return { config: applied, notes };
}
