// An HTTP app for the adaptive-drain tests: answers every request, and on SIGTERM prints
// the wall-clock time it arrived, then closes its listener and exits.
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => response.end("ok\n"));
});
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => {
  process.stdout.write(`TERM ${Date.now()}\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
