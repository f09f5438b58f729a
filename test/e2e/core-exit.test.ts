// What drainit as PID 1 passes to its child and back: exit codes, stdio, argv, environment,
// signal dispositions, working directory - and what it must not pick up on the way.
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRAINIT } from "./harness.ts";
import { RECORD_SIGNALS, finish, linesOf, readyPids, start, tempDir } from "./core-support.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

/** Shell words that print the raw bytes of the shell's own argv and environment, as hex. */
const DUMP_ARGV_AND_ENV = 'od -An -tx1 -v /proc/$$/cmdline; echo "--"; od -An -tx1 -v /proc/$$/environ';

function parseDump(stdout: string): { argv: Buffer[]; env: Buffer[] } {
  const [argvHex, envHex] = stdout.split("--\n");
  const split = (hex: string) => {
    const bytes = Buffer.from(hex.replace(/\s+/g, ""), "hex");
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) {
        parts.push(bytes.subarray(start, i));
        start = i + 1;
      }
    }
    return parts;
  };
  return { argv: split(argvHex ?? ""), env: split(envHex ?? "") };
}

describe("exit codes", () => {
  it.each([0, 1, 77, 255])("passes exit code %i on", async (code) => {
    const result = await finish(["sh", "-c", `exit ${code}`]);
    expect(result.code).toBe(code);
  });

  it.each([
    ["TERM", 143],
    ["HUP", 129],
    ["KILL", 137],
  ])("exits 128+n when the child is killed by %s", async (signal, expected) => {
    const result = await finish(["sh", "-c", `kill -${signal} $$`]);
    expect(result.code).toBe(expected);
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)("exits 128+n when a forwarded %s kills the child", async (signal, expected) => {
    const run = start(["sh", "-c", "echo ready $$; exec sleep 600"]);
    await readyPids(run);
    await run.signal(signal);
    expect((await run.finished).code).toBe(expected);
  });

  it("maps the codes given with -e/--remap-exit to 0, and no other", async () => {
    expect((await finish(["-e", "3", "sh", "-c", "exit 3"])).code).toBe(0);
    expect((await finish(["-e", "3", "--remap-exit", "4", "sh", "-c", "exit 4"])).code).toBe(0);
    expect((await finish(["-e", "3", "sh", "-c", "exit 5"])).code).toBe(5);
  });
});

describe("a command that cannot run", () => {
  it("is not found: 127 and one line", async () => {
    const result = await finish(["no-such-command-anywhere", "arg"]);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe("drainit: cannot run 'no-such-command-anywhere': No such file or directory\n");
    expect(result.stdout).toBe("");
  });

  it("is not found at an absolute path: 127 and one line", async () => {
    const missing = join(tempDir(), "foo");
    const result = await finish([missing]);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe(`drainit: cannot run '${missing}': No such file or directory\n`);
  });

  it("is not executable: 126 and one line", async () => {
    const script = join(tempDir(), "not-executable");
    writeFileSync(script, "#!/bin/sh\necho should not run\n");
    chmodSync(script, 0o644);
    const result = await finish([script]);
    expect(result.code).toBe(126);
    expect(result.stderr).toBe(`drainit: cannot run '${script}': Permission denied\n`);
    expect(result.stdout).toBe("");
  });

  it("is a directory: 126 and one line", async () => {
    const dir = tempDir();
    const result = await finish([dir]);
    expect(result.code).toBe(126);
    expect(result.stderr).toBe(`drainit: cannot run '${dir}': Permission denied\n`);
  });
});

describe("when the child exits", () => {
  it("exits promptly, not waiting for a process in another session", async () => {
    const run = start(["sh", "-c", "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo ready $$; exit 3"]);
    await readyPids(run);
    const readyAt = Date.now();
    const { code } = await run.finished;
    const tookMs = Date.now() - readyAt;
    expect(code).toBe(3);
    // The 1 s safety reap and the 2 s wait for leftovers are both longer than this.
    expect(tookMs).toBeLessThan(900);
  });

  it("sends SIGTERM to what is left of the child's process group, then exits with the child's code", async () => {
    const file = join(tempDir(), "background");
    // The background recorder stays in the child's group; USR2 makes the child itself exit.
    const run = start(["sh", "-c", 'trap "exit 3" USR2; bash "$0" "$1" 5 & wait', RECORD_SIGNALS, file]);
    await readyPids(run);
    await run.signal("SIGUSR2");
    const { code } = await run.finished;
    expect(code).toBe(3);
    expect(linesOf(file)).toEqual(["USR2", "TERM"]);
  });

  it("kills leftovers that ignore SIGTERM after a bounded wait, then exits with the child's code", async () => {
    const run = start([
      "sh",
      "-c",
      'trap "exit 4" USR2; (trap "" TERM USR2; echo ready $$; exec sleep 600) & wait',
    ]);
    await readyPids(run);
    const sentAt = Date.now();
    await run.signal("SIGUSR2");
    const { code, stderr } = await run.finished;
    const tookMs = Date.now() - sentAt;
    expect(code).toBe(4);
    expect(stderr).toMatch(/leftovers still running: sending SIGKILL/);
    // The leftovers get 2 s to go after their SIGTERM.
    expect(tookMs).toBeGreaterThanOrEqual(1_900);
    expect(tookMs).toBeLessThan(8_000);
  });
});

describe("what reaches the child", () => {
  it.each([[[]], [["-c"]]])("starts the child with no signal blocked or ignored (%j)", async (mode) => {
    const result = await finish([...mode, "cat", "/proc/self/status"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^SigBlk:\s+0{16}$/m);
    expect(result.stdout).toMatch(/^SigIgn:\s+0{16}$/m);
    expect(result.stdout).toMatch(/^SigCgt:\s+0{16}$/m);
  });

  it("passes stdin, stdout and stderr through", async () => {
    const result = await finish(
      ["sh", "-c", 'read -r line; echo "out:$line"; echo "err:$line" >&2; cat'],
      { input: "hello world\nsecond line\nthird\n" },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("out:hello world\nsecond line\nthird\n");
    expect(result.stderr).toBe("err:hello world\n");
  });

  it("passes argv and environment verbatim (spaces, unicode, empty strings, option look-alikes)", async () => {
    const args = ["a b", "", "  lead and trail  ", "ünïcødé 😀", "tab\there\nnewline", "$HOME *"];
    args.push("-c", "--", "-v", "");
    const env = { PATH, WITH_SPACES: "a b  c", EMPTY: "", UNICODE: "ünï 😀", EQUALS: "a=b=c" };
    const result = await finish(["sh", "-c", DUMP_ARGV_AND_ENV, "argv0", ...args], { env });
    expect(result.code).toBe(0);
    const dump = parseDump(result.stdout);
    expect(dump.argv.map((b) => b.toString("utf8"))).toEqual(["sh", "-c", DUMP_ARGV_AND_ENV, "argv0", ...args]);
    expect(dump.env.map((b) => b.toString("utf8")).sort()).toEqual(
      Object.entries(env)
        .map(([name, value]) => `${name}=${value}`)
        .sort(),
    );
  });

  it("passes bytes that are not UTF-8 verbatim in argv and environment", async () => {
    // Node can only pass strings: bash puts the raw bytes in, then execs the usual unshare line.
    const script =
      `export RAW=$'caf\\xe9\\xff'; ` +
      `exec unshare --pid --fork --mount-proc "$0" sh -c "$1" argv0 $'\\xff' $'caf\\xe9'`;
    const result = await finish(["-c", script, DRAINIT, DUMP_ARGV_AND_ENV], {
      notPid1: true,
      binary: "/bin/bash",
    });
    expect(result.code).toBe(0);
    const dump = parseDump(result.stdout);
    expect(dump.argv.slice(3)).toEqual([
      Buffer.from("argv0"),
      Buffer.from([0xff]),
      Buffer.from([0x63, 0x61, 0x66, 0xe9]),
    ]);
    expect(dump.env).toContainEqual(Buffer.from([...Buffer.from("RAW=caf"), 0xe9, 0xff]));
  });

  it("keeps the caller's working directory for the child and ignores .env and bunfig.toml there", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, ".env"),
      "DRAINIT_REMAP_EXIT=7\nDRAINIT_LOG_FORMAT=json\nDRAINIT_TYPO=1\nFROM_DOTENV=yes\n",
    );
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n\n[run]\npreload = ["./preload.ts"]\n');
    writeFileSync(
      join(dir, "preload.ts"),
      'import { writeFileSync } from "node:fs";\n' +
        'writeFileSync(new URL("./preloaded", import.meta.url), "yes");\n' +
        'process.stderr.write("preloaded\\n");\n',
    );
    writeFileSync(join(dir, "package.json"), '{ "name": "app", "type": "commonjs" }\n');
    const result = await finish(["sh", "-c", 'pwd; echo "[$FROM_DOTENV][$DRAINIT_REMAP_EXIT]"; exit 7'], {
      cwd: dir,
      env: { PATH },
    });
    expect(result.code).toBe(7);
    expect(result.stdout).toBe(`${dir}\n[][]\n`);
    expect(result.stderr).toBe("");
    expect(existsSync(join(dir, "preloaded"))).toBe(false);
  });
});
