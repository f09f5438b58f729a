// Offline stand-ins for the public base images the repository's Dockerfiles name (node, nginx,
// golang): the host's own programs with the libraries ldd names, a static busybox for the RUN
// steps, and the few files each program expects. Built once and cached by tag (context digest).
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DRAINIT, ROOTFS_DOCKERFILE, writeRootfs, type Engine } from "./engine.ts";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Copies a host program to `to` inside rootfs, and every library ldd names at its own path. */
function copyProgram(rootfs: string, from: string, to: string): void {
  mkdirSync(join(rootfs, dirname(to)), { recursive: true });
  copyFileSync(realpathSync(from), join(rootfs, to));
  const ldd = spawnSync("ldd", [from], { encoding: "utf8" }).stdout;
  for (const match of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) {
    const library = match[1]!;
    const target = join(rootfs, library);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(realpathSync(library), target);
  }
}

function writeUsers(rootfs: string): void {
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  mkdirSync(join(rootfs, "root"), { recursive: true });
  writeFileSync(
    join(rootfs, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  writeFileSync(join(rootfs, "etc", "group"), "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n");
}

async function buildBase(engine: Engine, tag: string, fill: (rootfs: string) => void, env: string[] = [`PATH=${PATH}`]): Promise<string> {
  const context = mkdtempSync(join(tmpdir(), "drainit-base-"));
  try {
    writeRootfs(context, { drainit: false });
    const rootfs = join(context, "rootfs");
    writeUsers(rootfs);
    // Scripts start with #!/usr/bin/env.
    mkdirSync(join(rootfs, "usr", "bin"), { recursive: true });
    symlinkSync("/bin/busybox", join(rootfs, "usr", "bin", "env"));
    // Like the Debian images they stand for: the whole of glibc's usual set, not only what the program needs.
    copyProgram(rootfs, DRAINIT, "/tmp/.glibc-probe");
    rmSync(join(rootfs, "tmp", ".glibc-probe"));
    fill(rootfs);
    writeFileSync(join(context, "Dockerfile"), `${ROOTFS_DOCKERFILE}ENV ${env.join(" ")}\n`);
    await engine.build(tag, context);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** node and npm at the official image's paths (/usr/local/bin). */
function buildNodeBase(engine: Engine): Promise<string> {
  return buildBase(engine, "drainit-test/node-base", (rootfs) => {
    copyProgram(rootfs, process.execPath, "/usr/local/bin/node");
    const npm = realpathSync(join(dirname(realpathSync(spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim())), ".."));
    cpSync(npm, join(rootfs, "usr", "local", "lib", "node_modules", "npm"), { recursive: true, dereference: true });
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr", "local", "bin", "npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr", "local", "bin", "npx"));
  });
}

/**
 * The node base with npm pointed at a registry (the loopback one of the tests): a layer of one
 * ENV line, rebuilt when the registry's address changes.
 */
export async function buildNodeBaseWithRegistry(engine: Engine, registry: string): Promise<string> {
  const base = await buildNodeBase(engine);
  const context = mkdtempSync(join(tmpdir(), "drainit-base-registry-"));
  try {
    writeFileSync(join(context, "Dockerfile"), `FROM ${base}\nENV npm_config_registry=${registry} npm_config_update_notifier=false\n`);
    const tag = "drainit-test/node-registry";
    await engine.build(tag, context);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Debian's nginx, with its configuration directory, its default page and its state directories. */
export function buildNginxBase(engine: Engine): Promise<string> {
  return buildBase(engine, "drainit-test/nginx-base", (rootfs) => {
    copyProgram(rootfs, "/usr/sbin/nginx", "/usr/sbin/nginx");
    cpSync("/etc/nginx", join(rootfs, "etc", "nginx"), { recursive: true, dereference: true });
    cpSync("/usr/share/nginx/html", join(rootfs, "usr", "share", "nginx", "html"), { recursive: true, dereference: true });
    for (const dir of ["var/log/nginx", "var/lib/nginx", "run"]) mkdirSync(join(rootfs, dir), { recursive: true });
  });
}

/** Debian's Go toolchain as GOROOT (/usr/local/go, as the official image has it). */
export function buildGoBase(engine: Engine): Promise<string> {
  const goroot = realpathSync(join(dirname(realpathSync("/usr/bin/go")), ".."));
  return buildBase(
    engine,
    "drainit-test/go-base",
    (rootfs) => {
      const target = join(rootfs, "usr", "local", "go");
      for (const part of ["VERSION", "bin", "pkg", "src"]) {
        if (existsSync(join(goroot, part))) cpSync(join(goroot, part), join(target, part), { recursive: true, dereference: true });
      }
    },
    [`PATH=/usr/local/go/bin:${PATH}`, "GOROOT=/usr/local/go", "GOPATH=/go", "GOCACHE=/tmp/go-cache", "CGO_ENABLED=0"],
  );
}
