// Compiles src/main.ts into one self-contained executable, dist/drainit.
// No runtime autoloading: an init must never read the app's .env, bunfig.toml,
// tsconfig.json or package.json from the directory it starts in.
import { execFileSync } from "node:child_process";
import { mkdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeNeutralisedRuntime } from "./neutralise-runtime-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", "bun");
const outfile = process.argv[2] ?? join(root, "dist", "drainit");
// Optional: a cross-compilation target (bun-linux-arm64) and the Bun runtime built for it.
const target = process.argv[3] ?? "bun";
const targetRuntime = process.argv[4] ?? realpathSync(bun);
mkdirSync(dirname(outfile), { recursive: true });
// Always the same base name: the runtime embeds it in the executable, and a name that
// varies (a pid) would make two builds of the same source differ.
const partialDir = join(dirname(outfile), `.partial-${process.pid}`);
mkdirSync(partialDir, { recursive: true });
const partial = join(partialDir, "drainit");
// The executable is built on a runtime that ignores BUN_OPTIONS, BUN_BE_BUN and BUN_INSPECT.
const runtime = `${outfile}.${process.pid}.runtime`;
writeNeutralisedRuntime(targetRuntime, runtime);
try {
  execFileSync(
    bun,
    [
      "build",
      "--compile",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      "--no-compile-autoload-tsconfig",
      "--no-compile-autoload-package-json",
      `--target=${target}`,
      `--compile-executable-path=${runtime}`,
      // Precompiled bytecode halves start-up (no parsing at run time); it needs ESM output,
      // hence no top-level await in src. --minify was measured too: no gain, so names stay.
      "--bytecode",
      "--format=esm",
      join(root, "src", "main.ts"),
      "--outfile",
      partial,
    ],
    { stdio: ["ignore", "ignore", "inherit"], cwd: root },
  );
} finally {
  rmSync(runtime, { force: true });
}
// Renamed into place so that a running copy is never overwritten half-way.
renameSync(partial, outfile);
rmSync(partialDir, { recursive: true, force: true });
console.log(`built ${outfile}`);
