// Naming an out-of-memory kill: finding drainit's memory cgroup (v2, v1, hybrid, inside a cgroup
// namespace), reading its OOM kill count and limit, and what the supervisor does with them.
import { describe, expect, it } from "vitest";
import {
  OomKillWatch,
  cgroupAncestry,
  findMemoryCgroup,
  formatBytes,
  oomKillMessage,
  parseMemoryLimit,
  parseOomKills,
} from "../../src/sys/cgroup.ts";
import { SIGNALS } from "../../src/signals.ts";
import { timelineFields } from "../../src/supervisor/timeline.ts";
import { Rig } from "./fakes.ts";

const SIGKILL = SIGNALS.KILL!;

const V2_MOUNTINFO = `
22 1 0:21 / /proc rw,nosuid - proc proc rw
29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const HYBRID_MOUNTINFO = `
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
// Docker on cgroup v1 without a cgroup namespace: the container sees its own group as the mount root.
const V1_CONTAINER_MOUNTINFO = `
700 690 0:40 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
701 690 0:41 /docker/abc /sys/fs/cgroup/cpu\\040x ro,nosuid - cgroup cgroup rw,cpu,cpuacct
`;

describe("finding drainit's memory cgroup", () => {
  it("cgroup v2: the unified hierarchy", () => {
    expect(findMemoryCgroup("0::/kubepods/pod1/ctr\n", V2_MOUNTINFO)).toEqual({
      version: 2,
      dir: "/sys/fs/cgroup/kubepods/pod1/ctr",
      mountPoint: "/sys/fs/cgroup",
    });
  });

  it("cgroup v2 inside a cgroup namespace: the root of the mount", () => {
    expect(findMemoryCgroup("0::/\n", V2_MOUNTINFO)).toEqual({ version: 2, dir: "/sys/fs/cgroup", mountPoint: "/sys/fs/cgroup" });
  });

  it("hybrid: the v1 memory hierarchy, not the unified one without the controller", () => {
    const procCgroup = "9:name=systemd:/\n8:pids:/\n4:memory:/job/42\n1:cpu:/\n0::/\n";
    expect(findMemoryCgroup(procCgroup, HYBRID_MOUNTINFO)).toEqual({
      version: 1,
      dir: "/sys/fs/cgroup/memory/job/42",
      mountPoint: "/sys/fs/cgroup/memory",
    });
  });

  it("v1 with the container's own group as the mount root", () => {
    expect(findMemoryCgroup("5:memory:/docker/abc\n", V1_CONTAINER_MOUNTINFO)).toMatchObject({
      version: 1,
      dir: "/sys/fs/cgroup/memory",
    });
    expect(findMemoryCgroup("5:memory:/docker/abc/sub\n", V1_CONTAINER_MOUNTINFO)?.dir).toBe("/sys/fs/cgroup/memory/sub");
  });

  it("none when the memory cgroup is outside what is mounted, or nothing is mounted", () => {
    expect(findMemoryCgroup("5:memory:/other\n", V1_CONTAINER_MOUNTINFO)).toBeNull();
    expect(findMemoryCgroup("0::/\n", "22 1 0:21 / /proc rw - proc proc rw\n")).toBeNull();
    expect(findMemoryCgroup("", V2_MOUNTINFO)).toBeNull();
  });

  it("walks from the cgroup up to its mount point, both included", () => {
    expect(cgroupAncestry({ version: 2, dir: "/sys/fs/cgroup/a/b", mountPoint: "/sys/fs/cgroup" })).toEqual([
      "/sys/fs/cgroup/a/b",
      "/sys/fs/cgroup/a",
      "/sys/fs/cgroup",
    ]);
  });

  it("is the mount point alone inside a container, whose own group is the root it sees", () => {
    expect(cgroupAncestry({ version: 1, dir: "/sys/fs/cgroup/memory", mountPoint: "/sys/fs/cgroup/memory" })).toEqual([
      "/sys/fs/cgroup/memory",
    ]);
  });
});

describe("reading the counts and the limit", () => {
  it("reads oom_kill from v2 memory.events and v1 memory.oom_control", () => {
    expect(parseOomKills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n")).toBe(2);
    expect(parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n")).toBe(7);
    expect(parseOomKills("oom_kill_disable 0\nunder_oom 0\n")).toBeNull();
  });

  it("reads a limit, and none for max or v1's unlimited value", () => {
    expect(parseMemoryLimit("268435456\n")).toBe(268_435_456);
    expect(parseMemoryLimit("max\n")).toBeNull();
    expect(parseMemoryLimit("9223372036854771712\n")).toBeNull();
  });

  it.each([
    [268_435_456, "256 MiB"],
    [1_610_612_736, "1.5 GiB"],
    [512 * 1024, "512 KiB"],
    [100, "100 B"],
    [33_554_432, "32 MiB"],
  ])("shows %i bytes as %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("names the limit in the message", () => {
    expect(oomKillMessage({ file: "memory.max", bytes: 268_435_456 })).toBe(
      "child killed by the out-of-memory killer (memory.max 256 MiB)",
    );
    expect(oomKillMessage(null)).toBe("child killed by the out-of-memory killer (no memory limit on drainit's cgroup)");
  });
});

describe("OomKillWatch", () => {
  function fakeFiles(files: Record<string, string>) {
    return (path: string) => files[path] ?? null;
  }

  it("sees the count rise after start, and the lowest limit from the group up", () => {
    const files: Record<string, string> = {
      "/proc/self/cgroup": "0::/pod/ctr\n",
      "/proc/self/mountinfo": V2_MOUNTINFO,
      "/sys/fs/cgroup/pod/ctr/memory.events": "oom 0\noom_kill 0\n",
      "/sys/fs/cgroup/pod/ctr/memory.max": "max\n",
      "/sys/fs/cgroup/pod/memory.max": "268435456\n",
    };
    const watch = OomKillWatch.start(fakeFiles(files))!;
    expect(watch.killedSinceStart()).toBe(false);
    files["/sys/fs/cgroup/pod/ctr/memory.events"] = "oom 1\noom_kill 1\n";
    expect(watch.killedSinceStart()).toBe(true);
    expect(watch.limit()).toEqual({ file: "memory.max", bytes: 268_435_456 });
  });

  it("finds the limit on the mount point itself, as in a container on cgroup v1", () => {
    const watch = OomKillWatch.start(
      fakeFiles({
        "/proc/self/cgroup": "5:memory:/docker/abc\n",
        "/proc/self/mountinfo": V1_CONTAINER_MOUNTINFO,
        "/sys/fs/cgroup/memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes": "134217728\n",
      }),
    )!;
    expect(watch.limit()).toEqual({ file: "memory.limit_in_bytes", bytes: 134_217_728 });
  });

  it("is null when the count cannot be read", () => {
    expect(OomKillWatch.start(fakeFiles({ "/proc/self/cgroup": "0::/\n", "/proc/self/mountinfo": V2_MOUNTINFO }))).toBeNull();
    expect(OomKillWatch.start(fakeFiles({}))).toBeNull();
  });
});

describe("the supervisor names an OOM kill", () => {
  const OOM_LINE = "child killed by the out-of-memory killer (memory.max 256 MiB)";

  function rigWithOom(oom: boolean) {
    const rig = new Rig();
    let asked = 0;
    rig.effects.outOfMemoryKill = () => {
      asked += 1;
      return oom ? OOM_LINE : null;
    };
    return { rig, asked: () => asked };
  }

  it("logs one warning and marks the timeline when the child died of a SIGKILL it did not send", () => {
    const { rig, asked } = rigWithOom(true);
    const child = rig.start();
    rig.exits(child, { signal: SIGKILL });
    expect(asked()).toBe(1);
    expect(rig.log.records.filter((l) => l.message === OOM_LINE)).toEqual([
      expect.objectContaining({ level: "warn", message: OOM_LINE }),
    ]);
    const timeline = rig.log.records.find((l) => l.message === "timeline");
    expect(timeline).toMatchObject({ level: "info", fields: { child: "killed(KILL,oom)", exit_code: 137 } });
    expect(rig.effects.exitCode).toBe(137);
  });

  it("says nothing when the count did not rise", () => {
    const { rig, asked } = rigWithOom(false);
    const child = rig.start();
    rig.exits(child, { signal: SIGKILL });
    expect(asked()).toBe(1);
    expect(rig.log.records.some((l) => l.message.includes("out-of-memory"))).toBe(false);
    expect(rig.log.records.find((l) => l.message === "exiting")?.fields?.child).toBe("killed(KILL)");
  });

  it("does not ask for other deaths, nor for a SIGKILL drainit sent itself", () => {
    const { rig, asked } = rigWithOom(true);
    const child = rig.start();
    rig.exits(child, { signal: SIGNALS.TERM! });
    expect(asked()).toBe(0);

    const graced = new Rig({ graceMs: 1_000 });
    let gracedAsked = 0;
    graced.effects.outOfMemoryKill = () => {
      gracedAsked += 1;
      return OOM_LINE;
    };
    graced.start();
    graced.signal("TERM");
    graced.kernel.process(graced.supervisor.pid).diesOn.delete(SIGNALS.TERM!);
    graced.clock.advance(1_000); // drainit's own SIGKILL
    graced.supervisor.receiveSignal(SIGNALS.CHLD!);
    expect(gracedAsked).toBe(0);
    expect(graced.effects.exitCode).toBe(137);
  });

  it("shows killed(KILL,oom) in the timeline fields", () => {
    const fields = timelineFields(
      {
        stopSignal: null,
        stopAt: null,
        hook: null,
        forwarded: null,
        childExit: { status: { signal: SIGKILL }, at: 10, oom: true },
        sigkillAt: null,
        exitCode: 137,
        endAt: 12,
      },
      0,
    );
    expect(fields.child).toBe("killed(KILL,oom)");
  });
});
