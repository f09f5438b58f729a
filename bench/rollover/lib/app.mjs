#!/usr/bin/env node
// The app under test: a typical well-behaved-but-naive HTTP server. On SIGTERM it
// stops listening at once and exits when its in-flight requests are done — which is
// exactly what refuses the requests a load balancer still routes to it.
//
//   node app.mjs --listen 127.0.0.1:8080 [--startup-ms 0] [--latency-ms 20]
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: "127.0.0.1:8080" },
    "startup-ms": { type: "string", default: "0" },
    "latency-ms": { type: "string", default: "20" },
  },
});
const [host, port] = splitAddress(values.listen);
const startupMs = Number(values["startup-ms"]);
const latencyMs = Number(values["latency-ms"]);

const server = createServer((request, response) => {
  if (request.url === "/healthz") {
    response.end("ok\n");
    return;
  }
  // Consume the body (if any) before answering, like a real handler would.
  request.resume();
  setTimeout(() => {
    response.setHeader("content-type", "text/plain");
    response.end(`served by ${process.pid}\n`);
  }, latencyMs);
});

process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
});

setTimeout(() => {
  server.on("error", (error) => {
    console.error(`app: cannot listen on ${values.listen}: ${error.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => console.log(`app: listening on ${host}:${port}`));
}, startupMs);

/** "host:port" → [host, port]; exits with a clear line on bad input. */
function splitAddress(address) {
  const at = address.lastIndexOf(":");
  const portNumber = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) {
    console.error(`app: --listen wants HOST:PORT, got ${JSON.stringify(address)}`);
    process.exit(2);
  }
  return [address.slice(0, at), portNumber];
}
