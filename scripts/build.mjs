// Compiles src/main.ts into one self-contained executable, dist/drainit, with the signal handler
// (src/sys/signal-handler.c, built here into a small shared object for the target) embedded.
// No runtime autoloading: an init must never read the app's .env, bunfig.toml,
// tsconfig.json or package.json from the directory it starts in.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from "node:fs";
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
const handlerObject = buildSignalHandler(target, join(partialDir, "signal-handler.so"));
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
      // Embedded as a file (Bun.embeddedFiles), named after its content: same source, same name.
      handlerObject,
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

/** The C compiler (Debian's gcc, gcc-aarch64-linux-gnu) for a Bun compile target. */
function compilerFor(target) {
  if (target.includes("arm64")) return "aarch64-linux-gnu-gcc";
  if (target.includes("x64")) return "x86_64-linux-gnu-gcc";
  return process.arch === "arm64" ? "aarch64-linux-gnu-gcc" : "x86_64-linux-gnu-gcc";
}

/**
 * Compiles the signal handler into a shared object: stripped, no debug information, so that the
 * same source gives the same bytes wherever it is built. The runtime records an embedded file's
 * path in the executable, so the object is then kept under a path named after its content
 * (under node_modules/.cache): the same for every build of the same source, and never written
 * over by a build running alongside for another target.
 */
function buildSignalHandler(target, scratch) {
  const source = join(root, "src", "sys", "signal-handler.c");
  execFileSync(
    compilerFor(target),
    ["-shared", "-fPIC", "-O2", "-s", "-g0", "-Wall", "-Wextra", "-Werror", `-ffile-prefix-map=${root}=.`, "-o", scratch, source],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const digest = createHash("sha256").update(readFileSync(scratch)).digest("hex").slice(0, 16);
  const dir = join(root, "node_modules", ".cache", "drainit-signal-handler", digest);
  const object = join(dir, "signal-handler.so");
  if (!existsSync(object)) {
    mkdirSync(dir, { recursive: true });
    renameSync(scratch, object);
  }
  return object;
}
