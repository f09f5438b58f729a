// Invoked under another init's name, drainit takes that init's defaults, variables and silence,
// so that it replaces it without a change to the Dockerfile or the engine's settings.
import packageJson from "../../package.json" with { type: "json" };
import { LogLevel } from "../config.ts";
import type { Personality } from "./options.ts";
import type { Environment } from "./settings.ts";

/**
 * The names each personality answers to. Docker ships tini as docker-init (`docker run --init`
 * runs `/sbin/docker-init -- CMD`); Podman ships catatonit as podman-init (`/run/podman-init -- CMD`).
 */
const PERSONALITY_BY_NAME: Readonly<Record<string, Personality>> = {
  "dumb-init": "dumb-init",
  tini: "tini",
  "tini-static": "tini",
  "docker-init": "tini",
  catatonit: "catatonit",
  "podman-init": "catatonit",
};

export function personalityOf(invokedAs: string): Personality {
  const name = invokedAs.split("/").pop() ?? "";
  return PERSONALITY_BY_NAME[name] ?? "drainit";
}

/** Whether signals go to the child alone when neither -c nor -g (nor their variables) says. */
export function defaultSingleChild(personality: Personality, env: Environment): boolean {
  switch (personality) {
    case "drainit":
      return false;
    case "dumb-init":
      return env.DUMB_INIT_SETSID === "0";
    case "tini":
      return env.TINI_KILL_PROCESS_GROUP === undefined;
    case "catatonit":
      return true;
  }
}

/** tini becomes a subreaper with TINI_SUBREAPER set (to anything). */
export function defaultSubreaper(personality: Personality, env: Environment): boolean {
  return personality === "tini" && env.TINI_SUBREAPER !== undefined;
}

/**
 * The log level before -v/-q. The peers say nothing unless something goes wrong, so under their
 * names drainit logs warnings and errors only — unless a drain option is in use: whoever asks
 * for a drain gets its log lines and the timeline, as drainit itself gives them.
 */
export function baseVerbosity(personality: Personality, env: Environment, drainAsked: boolean): number {
  if (personality === "drainit") return LogLevel.info;
  let level: number = LogLevel.warn;
  if (personality === "tini" && env.TINI_VERBOSITY !== undefined && /^\d+$/.test(env.TINI_VERBOSITY)) {
    level = Number(env.TINI_VERBOSITY);
  }
  if (personality === "catatonit" && env.CATATONIT_DEBUG !== undefined) level = LogLevel.debug;
  return drainAsked ? Math.max(level, LogLevel.info) : level;
}

/**
 * The version line. Under tini's names it is in tini's format, which dockerd parses for
 * `docker info` and `docker version`: the text before " - " must start with "tini version ",
 * the text after it must be "git." and one word without a dot. That word is at most 7
 * characters, the length of the commit id some dockerd versions compare it with. catatonit
 * prints tini's format too, for the same reason.
 */
export function versionText(personality: Personality): string {
  if (personality === "tini" || personality === "catatonit") return `tini version drainit ${packageJson.version} - git.drainit\n`;
  const bun = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;
  return `drainit ${packageJson.version} (${bun}, ${process.platform}-${process.arch})\n`;
}
