// A web process for a Procfile platform. POST /drain (called by drainit's --drain-hook when
// the stop signal arrives) makes /healthz answer 503, so the router stops sending traffic
// here while requests keep being served; SIGTERM, forwarded after the drain, closes the server.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 5000);
let draining = false;

const server = createServer((request, response) => {
  if (request.method === "POST" && request.url === "/drain") {
    draining = true;
    console.log("draining");
    response.writeHead(204).end();
  } else if (request.url === "/healthz") {
    response.writeHead(draining ? 503 : 200).end(draining ? "draining\n" : "ok\n");
  } else {
    response.writeHead(200, { "content-type": "text/plain" }).end("hello\n");
  }
});

server.listen(port, () => console.log(`listening on ${port}`));

process.on("SIGTERM", () => {
  console.log("SIGTERM: closing");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
