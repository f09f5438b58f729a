// The Bun runtime a drainit executable for linux-x64 or linux-arm64 is built on: the one npm
// installed when it matches this machine, otherwise the same version's package for the other
// CPU, fetched once with `npm pack` (npm's cache serves it offline afterwards) and checked
// against the integrity recorded in package-lock.json.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** npm package of the Bun runtime per drainit architecture (Bun says aarch64 where Node says arm64). */
const RUNTIME_PACKAGES = { x64: "@oven/bun-linux-x64", arm64: "@oven/bun-linux-aarch64" };

function bunVersion() {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return manifest.devDependencies.bun;
}

function lockedIntegrity(name) {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  return lock.packages?.[`node_modules/${name}`]?.integrity ?? null;
}

/** Path of the bun executable for `arch` ("x64" or "arm64"). */
export function bunRuntimeFor(arch) {
  const name = RUNTIME_PACKAGES[arch];
  if (!name) throw new Error(`no Bun runtime package for ${arch}`);
  const version = bunVersion();
  if (process.platform === "linux" && process.arch === arch) {
    return realpathSync(join(root, "node_modules", ".bin", "bun"));
  }
  const cache = join(root, "node_modules", ".cache", "drainit-bun-runtimes", `${name.replace("/", "+")}-${version}`);
  const executable = join(cache, "package", "bin", "bun");
  if (existsSync(executable)) return executable;
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", `${name}@${version}`, "--pack-destination", cache, "--json", "--silent"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const expected = lockedIntegrity(name);
  if (!expected) throw new Error(`package-lock.json records no integrity for ${name}: run npm install to update it`);
  if (packed.integrity !== expected) {
    throw new Error(`${name}@${version}: integrity ${packed.integrity} does not match package-lock.json (${expected})`);
  }
  execFileSync("tar", ["-xzf", join(cache, packed.filename), "-C", cache]);
  rmSync(join(cache, packed.filename));
  if (!existsSync(executable)) throw new Error(`${name}@${version} has no bin/bun`);
  return executable;
}
