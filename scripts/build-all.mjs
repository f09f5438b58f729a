// Release build into dist/ (or the directory given): drainit-linux-x64, drainit-linux-arm64
// (cross-compiled; no network once the runtimes are cached) and SHA256SUMS. Two runs on the
// same source give the same bytes.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bunRuntimeFor } from "./bun-runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = process.argv[2] ?? join(root, "dist");
/** drainit's architecture name → Bun's compile target. */
const TARGETS = { x64: "bun-linux-x64", arm64: "bun-linux-arm64" };

const sums = [];
for (const [arch, target] of Object.entries(TARGETS)) {
  const name = `drainit-linux-${arch}`;
  const outfile = join(dist, name);
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs"), outfile, target, bunRuntimeFor(arch)], {
    stdio: "inherit",
  });
  sums.push(`${createHash("sha256").update(readFileSync(outfile)).digest("hex")}  ${name}\n`);
}
// The format sha256sum -c reads.
writeFileSync(join(dist, "SHA256SUMS"), sums.join(""));
process.stdout.write(sums.join(""));
