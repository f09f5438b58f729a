import { closeSync, openSync, readSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../src/cli/cli.ts";

import { UsageError } from "../../src/config.ts";
import { ElfError, interpreterOf } from "../../src/tools/elf.ts";
import { RootfsError, mappedSharedLibraries, planRootfs } from "../../src/tools/rootfs.ts";

const MAPS = `00400000-00401000 r--p 00000000 08:01 1234       /opt/app/bin/drainit
00401000-00402000 r-xp 00001000 08:01 1234       /opt/app/bin/drainit
0221f000-02240000 rw-p 00000000 00:00 0          [heap]
7f1c2a000000-7f1c2a028000 r--p 00000000 08:01 2001       /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c2a028000-7f1c2a1bd000 r-xp 00028000 08:01 2001       /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c2a300000-7f1c2a301000 r--p 00000000 08:01 2002       /usr/lib/x86_64-linux-gnu/libm.so.6
7f1c2a400000-7f1c2a401000 r--p 00000000 08:01 2003       /opt/my libs/libstdc++.so.6.0.30
7f1c2a500000-7f1c2a501000 r--p 00000000 08:01 2004       /usr/lib/locale/locale-archive
7f1c2a600000-7f1c2a601000 r--p 00000000 08:01 2005       /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0          [stack]
7ffd1c1f0000-7ffd1c1f2000 r-xp 00000000 00:00 0          [vdso]
`;

describe("mappedSharedLibraries", () => {
  it("lists each mapped shared library once, in map order, paths with spaces included", () => {
    expect(mappedSharedLibraries(MAPS)).toEqual([
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
      "/usr/lib/x86_64-linux-gnu/libm.so.6",
      "/opt/my libs/libstdc++.so.6.0.30",
      "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    ]);
  });

  it("refuses a library deleted since it was loaded: its file is no longer the one running", () => {
    const maps = "7f00-7f01 r--p 00000000 08:01 9 /usr/lib/libz.so.1 (deleted)\n";
    expect(() => mappedSharedLibraries(maps)).toThrow(RootfsError);
  });
});

describe("planRootfs", () => {
  const inputs = {
    maps: MAPS,
    executable: "/proc/self/exe",
    executableRealPath: "/opt/app/bin/drainit",
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    interpreterRealPath: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    as: "/drainit",
  };

  it("puts drainit at --as, the loader at its PT_INTERP path, the libraries at their own paths", () => {
    expect(planRootfs(inputs)).toEqual([
      { source: "/proc/self/exe", target: "/drainit" },
      { source: "/lib64/ld-linux-x86-64.so.2", target: "/lib64/ld-linux-x86-64.so.2" },
      { source: "/usr/lib/x86_64-linux-gnu/libc.so.6", target: "/usr/lib/x86_64-linux-gnu/libc.so.6" },
      { source: "/usr/lib/x86_64-linux-gnu/libm.so.6", target: "/usr/lib/x86_64-linux-gnu/libm.so.6" },
      { source: "/opt/my libs/libstdc++.so.6.0.30", target: "/opt/my libs/libstdc++.so.6.0.30" },
    ]);
  });

  it("writes only the executable for a static build", () => {
    const maps = "00400000-00401000 r-xp 00000000 08:01 1 /opt/app/bin/drainit\n";
    expect(planRootfs({ ...inputs, maps, interpreter: null, interpreterRealPath: null, as: "/bin/init" })).toEqual([
      { source: "/proc/self/exe", target: "/bin/init" },
    ]);
  });
});

function readerOf(path: string) {
  const fd = openSync(path, "r");
  return {
    readAt(offset: number, length: number) {
      const buffer = new Uint8Array(length);
      return buffer.subarray(0, readSync(fd, buffer, 0, length, offset));
    },
    close: () => closeSync(fd),
  };
}

describe("interpreterOf", () => {
  it("reads PT_INTERP of a dynamically linked executable", () => {
    const file = readerOf(process.execPath);
    try {
      expect(interpreterOf(file.readAt)).toMatch(/^\/lib.*\/ld-linux-[\w-]+\.so\.\d$/);
    } finally {
      file.close();
    }
  });

  it("returns null for a static executable", () => {
    const file = readerOf("/bin/busybox");
    try {
      expect(interpreterOf(file.readAt)).toBeNull();
    } finally {
      file.close();
    }
  });

  it("rejects what is not an ELF file", () => {
    const text = new TextEncoder().encode("#!/bin/sh\necho hello, this is a script and not a program at all\n");
    expect(() => interpreterOf((offset, length) => text.subarray(offset, offset + length))).toThrow(ElfError);
  });
});

describe("--export-rootfs on the command line", () => {
  const parse = (...args: string[]) => parseCommandLine(args, {}, "drainit");

  it("takes a directory and an optional --as path", () => {
    expect(parse("--export-rootfs", "/out")).toEqual({ kind: "export-rootfs", dir: "/out", as: "/drainit" });
    expect(parse("--export-rootfs", "out", "--as", "/usr/local//bin/drainit")).toEqual({
      kind: "export-rootfs",
      dir: "out",
      as: "/usr/local/bin/drainit",
    });
  });

  it("rejects a relative or escaping --as, --as alone, and a command", () => {
    for (const args of [
      ["--export-rootfs", "/out", "--as", "drainit"],
      ["--export-rootfs", "/out", "--as", "/../drainit"],
      ["--export-rootfs", "/out", "--as", "/bin/"],
      ["--as", "/drainit", "--", "sh"],
      ["--export-rootfs", "/out", "--", "sh"],
      ["--export-rootfs", ""],
    ]) {
      expect(() => parse(...args), args.join(" ")).toThrow(UsageError);
      expect(() => parse(...args), args.join(" ")).toThrow(/^--(as|export-rootfs)\b/);
    }
  });

  it("is not turned on by the environment", () => {
    const invocation = parseCommandLine(["sh"], { DRAINIT_EXPORT_ROOTFS: "/out" }, "drainit");
    expect(invocation.kind).toBe("run");
  });
});
