// A small HTTP app with the usual graceful stop: on SIGTERM, stop accepting and let the
// requests in flight finish. drainit delays that SIGTERM until the load balancers have
// stopped sending traffic here, so no request meets a closed port.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);

const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://app");
  // ?delay=MS makes a slow request, to watch one finish during a stop.
  const delay = Math.min(Number(url.searchParams.get("delay") ?? 0), 60_000);
  setTimeout(() => {
    response.writeHead(200, { "content-type": "text/plain" });
    response.end(`hello from ${process.pid}\n`);
  }, delay);
});

server.listen(port, () => console.log(`listening on ${port}`));

process.on("SIGTERM", () => {
  console.log("SIGTERM: closing");
  server.close(() => process.exit(0));
  // Keep-alive connections would hold close() open; they get a Connection: close on their next response.
  server.closeIdleConnections();
});
