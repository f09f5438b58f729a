// A small HTTP app that drains the way most apps do: on SIGTERM, SIGQUIT or SIGINT it
// records the moment (host wall clock, comparable with the test's Date.now) and closes
// its listener, then exits 0.
//   node http-app.mjs [--port N]
// GET /          → 200 "hello"
// GET /health    → the status set by POST /health?status=N (200 at first)
// Prints one JSON line per event on stdout: {"event":"listening","port":N}, {"event":"signal",...}.
import { createServer } from "node:http";
import { writeSync } from "node:fs";

const portArg = process.argv.indexOf("--port");
const port = portArg === -1 ? 0 : Number(process.argv[portArg + 1]);
let healthStatus = 200;

const report = (fields) => writeSync(1, `${JSON.stringify(fields)}\n`);

const server = createServer((request, response) => {
  const url = new URL(request.url, "http://app");
  if (url.pathname === "/health" && request.method === "POST") {
    healthStatus = Number(url.searchParams.get("status"));
    response.writeHead(204).end();
  } else if (url.pathname === "/health") {
    response.writeHead(healthStatus, { "content-type": "text/plain" }).end(`health ${healthStatus}\n`);
  } else {
    response.writeHead(200, { "content-type": "text/plain" }).end("hello\n");
  }
});

for (const signal of ["SIGTERM", "SIGQUIT", "SIGINT"]) {
  process.on(signal, () => {
    report({ event: "signal", signal, at: Date.now() });
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

server.listen(port, "127.0.0.1", () => report({ event: "listening", port: server.address().port }));
