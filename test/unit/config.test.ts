import { describe, expect, it } from "vitest";
import { UsageError, parseDuration, parseHttpUrl, parseListenAddress } from "../../src/config.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1.5s", 1_500],
    ["5", 5_000],
    ["0", 0],
    ["0.25", 250],
    [" 3s ", 3_000],
    ["10 s", 10_000],
  ])("reads %j as %i ms", (text, expected) => {
    expect(parseDuration(text, "--drain")).toBe(expected);
  });

  it.each(["-1", "-5s", "abc", "", "5x", "s", "1e3", "5s5", "--5", "Infinity", "NaN", "1,5s"])(
    "rejects %j",
    (text) => {
      expect(() => parseDuration(text, "--drain")).toThrow(UsageError);
    },
  );

  it("names the option and the value in its message", () => {
    expect(() => parseDuration("soon", "--grace")).toThrow(
      "--grace: 'soon' is not a duration (try 500ms, 5s, 2m or a number of seconds)",
    );
  });
});

describe("parseListenAddress", () => {
  it("reads ADDR:PORT", () => {
    expect(parseListenAddress("0.0.0.0:8086", "--health")).toEqual({ host: "0.0.0.0", port: 8086 });
    expect(parseListenAddress("127.0.0.1:80", "--health")).toEqual({ host: "127.0.0.1", port: 80 });
  });

  it("reads a host name", () => {
    expect(parseListenAddress("localhost:9000", "--health")).toEqual({ host: "localhost", port: 9000 });
  });

  it("reads a bracketed IPv6 address", () => {
    expect(parseListenAddress("[::1]:8086", "--health")).toEqual({ host: "::1", port: 8086 });
  });

  it("reads :PORT as every address", () => {
    expect(parseListenAddress(":8086", "--health")).toEqual({ host: "0.0.0.0", port: 8086 });
  });

  it.each(["8086", "0.0.0.0", "0.0.0.0:", "0.0.0.0:http", "0.0.0.0:65536", "::1:80", "host:80:90", ""])(
    "rejects %j",
    (text) => {
      expect(() => parseListenAddress(text, "--health")).toThrow(UsageError);
    },
  );

  it("names the option and the value in its message", () => {
    expect(() => parseListenAddress("nope", "--health")).toThrow("--health: 'nope' is not ADDR:PORT (e.g. 0.0.0.0:8086)");
  });
});

describe("parseHttpUrl", () => {
  it("accepts http and https URLs", () => {
    expect(parseHttpUrl("http://127.0.0.1:8080/drain", "--drain-hook")).toBe("http://127.0.0.1:8080/drain");
    expect(parseHttpUrl("https://example.test/drain?graceful", "--drain-hook")).toBe(
      "https://example.test/drain?graceful",
    );
  });

  it("rejects other schemes", () => {
    expect(() => parseHttpUrl("ftp://example.test/", "--drain-hook")).toThrow(
      "--drain-hook: 'ftp://example.test/' is not an http(s) URL",
    );
  });

  it("rejects text that is not a URL", () => {
    expect(() => parseHttpUrl("http://", "--drain-hook")).toThrow("--drain-hook: 'http://' is not a URL");
    expect(() => parseHttpUrl("not a url", "--health-upstream")).toThrow(UsageError);
  });
});
