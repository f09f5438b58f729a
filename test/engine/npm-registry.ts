// A tiny npm registry on loopback that serves the drainit packages made from this checkout
// (dist/drainit as @drainit/linux-x64), so that `npm install drainit` inside an offline image
// build installs what is being tested.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DRAINIT, ROOT } from "./engine.ts";

interface Packed {
  name: string;
  manifest: Record<string, unknown>;
  file: string;
}

export class NpmRegistry {
  readonly dir = mkdtempSync(join(tmpdir(), "drainit-registry-"));
  readonly version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
  private readonly packages = new Map<string, Packed>();
  private server: Server | null = null;
  url = "";

  /** Packs the three packages (linux-arm64 without its executable: it is never installed here). */
  constructor() {
    this.pack("drainit");
    this.pack("linux-x64", (staged) => {
      mkdirSync(join(staged, "bin"), { recursive: true });
      copyFileSync(DRAINIT, join(staged, "bin", "drainit"));
      chmodSync(join(staged, "bin", "drainit"), 0o755);
    });
    this.pack("linux-arm64");
  }

  private pack(dir: string, prepare?: (staged: string) => void): void {
    const staged = join(this.dir, "stage", dir);
    cpSync(join(ROOT, "packaging", "npm", dir), staged, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(staged, "package.json"), "utf8")) as Record<string, unknown> & {
      name: string;
      optionalDependencies?: Record<string, string>;
    };
    manifest.version = this.version;
    for (const name of Object.keys(manifest.optionalDependencies ?? {})) manifest.optionalDependencies![name] = this.version;
    writeFileSync(join(staged, "package.json"), JSON.stringify(manifest, null, 2));
    prepare?.(staged);
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", staged, "--pack-destination", this.dir, "--json", "--silent"], { encoding: "utf8" }),
    ) as { filename: string }[];
    this.packages.set(manifest.name, { name: manifest.name, manifest, file: join(this.dir, packed!.filename) });
  }

  private packument(packed: Packed): string {
    const tarball = readFileSync(packed.file);
    const basename = packed.file.slice(packed.file.lastIndexOf("/") + 1);
    return JSON.stringify({
      name: packed.name,
      "dist-tags": { latest: this.version },
      versions: {
        [this.version]: {
          ...packed.manifest,
          _id: `${packed.name}@${this.version}`,
          dist: {
            tarball: `${this.url}tarballs/${basename}`,
            shasum: createHash("sha1").update(tarball).digest("hex"),
            integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
          },
        },
      },
    });
  }

  /** Listens on 127.0.0.1 (a free port); resolves with the registry URL. */
  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const path = decodeURIComponent((request.url ?? "/").split("?")[0]!).slice(1);
      const packed = this.packages.get(path);
      if (packed) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(this.packument(packed));
        return;
      }
      const tarball = [...this.packages.values()].find((p) => path === `tarballs/${p.file.slice(p.file.lastIndexOf("/") + 1)}`);
      if (tarball) {
        response.writeHead(200, { "content-type": "application/octet-stream" });
        response.end(readFileSync(tarball.file));
        return;
      }
      response.writeHead(404, { "content-type": "application/json" });
      response.end('{"error":"not found"}');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
