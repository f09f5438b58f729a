// Compiles src/main.ts into one self-contained executable, dist/drainit.
// No runtime autoloading: an init must never read the app's .env, bunfig.toml,
// tsconfig.json or package.json from the directory it starts in.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", "bun");
const outfile = process.argv[2] ?? join(root, "dist", "drainit");
mkdirSync(dirname(outfile), { recursive: true });
const partial = `${outfile}.${process.pid}.partial`;
execFileSync(
  bun,
  [
    "build",
    "--compile",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--no-compile-autoload-tsconfig",
    "--no-compile-autoload-package-json",
    "--target=bun",
    join(root, "src", "main.ts"),
    "--outfile",
    partial,
  ],
  { stdio: ["ignore", "ignore", "inherit"], cwd: root },
);
// Renamed into place so that a running copy is never overwritten half-way.
renameSync(partial, outfile);
console.log(`built ${outfile}`);
