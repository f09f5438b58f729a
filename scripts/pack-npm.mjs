// Builds the npm tarballs into dist/npm/: drainit (the bin stub and its install step) and
// @drainit/linux-x64 and @drainit/linux-arm64 (the executables from npm run build:all),
// all with the version of the root package.json.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = process.argv[2] ?? join(root, "dist");
const out = join(dist, "npm");
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
const ARCHES = ["x64", "arm64"];

for (const arch of ARCHES) {
  if (!existsSync(join(dist, `drainit-linux-${arch}`))) {
    process.stderr.write(`pack-npm: ${join(dist, `drainit-linux-${arch}`)} is missing: run npm run build:all first\n`);
    process.exit(1);
  }
}

const stage = join(out, `.stage-${process.pid}`);
rmSync(stage, { recursive: true, force: true });

/** Copies packaging/npm/<dir> to the stage with every version set, and packs it. */
function pack(dir, prepare) {
  const staged = join(stage, dir);
  cpSync(join(root, "packaging", "npm", dir), staged, { recursive: true });
  const manifestPath = join(staged, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  manifest.version = version;
  for (const name of Object.keys(manifest.optionalDependencies ?? {})) manifest.optionalDependencies[name] = version;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  prepare?.(staged);
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", staged, "--pack-destination", out, "--json", "--silent"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  process.stdout.write(`${join(out, packed.filename)}\n`);
}

mkdirSync(out, { recursive: true });
try {
  pack("drainit");
  for (const arch of ARCHES) {
    pack(`linux-${arch}`, (staged) => {
      mkdirSync(join(staged, "bin"), { recursive: true });
      copyFileSync(join(dist, `drainit-linux-${arch}`), join(staged, "bin", "drainit"));
      chmodSync(join(staged, "bin", "drainit"), 0o755);
    });
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
