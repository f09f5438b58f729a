// The HTTP drain hook's edge: the answer, or the failure, comes back once through the callback,
// from a turn of its own; cancel() aborts the request.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postDrainHook } from "../../src/drain/http-hook.ts";
import type { HookOutcome } from "../../src/supervisor/timeline.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function serve(answer: (respond: (status: number) => void) => void): Promise<string> {
  const server = createServer((_request, response) => answer((status) => response.writeHead(status).end("ok")));
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/drain`)),
  );
}

function answers(url: string): { outcomes: HookOutcome[]; synchronous: boolean; cancel(): void; done: Promise<void> } {
  const outcomes: HookOutcome[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  let returned = false;
  let synchronous = false;
  const call = postDrainHook(url, (outcome) => {
    if (!returned) synchronous = true;
    outcomes.push(outcome);
    resolve();
  });
  returned = true;
  return {
    outcomes,
    get synchronous() {
      return synchronous;
    },
    cancel: () => call.cancel(),
    done,
  };
}

describe("postDrainHook", () => {
  it("delivers the status once, after the call has returned", async () => {
    const call = answers(await serve((respond) => respond(204)));
    await call.done;
    expect(call.outcomes).toEqual([{ kind: "http", status: 204 }]);
    expect(call.synchronous).toBe(false);
  });

  it("delivers a refused connection as a failure, not a rejection", async () => {
    const url = await serve((respond) => respond(200));
    servers[0]!.close();
    await new Promise((r) => setTimeout(r, 10));
    const call = answers(url);
    await call.done;
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]).toMatchObject({ kind: "failed" });
    expect((call.outcomes[0] as { reason: string }).reason).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/drain: /);
  });

  it("delivers a cancelled request as a failure", async () => {
    const call = answers(await serve(() => undefined));
    call.cancel();
    await call.done;
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]!.kind).toBe("failed");
  });
});
