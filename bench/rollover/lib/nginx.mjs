// nginx (from Debian) as a second, real app: each instance gets a directory with its
// own configuration, pid file and temp paths. nginx stops fast (dropping connections)
// on SIGTERM and gracefully on SIGQUIT, hence `--rewrite TERM:QUIT` under drainit.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes the instance's configuration under `dir` and returns its argv. */
export function nginxArgv({ host, port, dir }) {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "nginx.conf");
  writeFileSync(
    config,
    [
      "daemon off;",
      "master_process on;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      "error_log stderr warn;",
      "events { worker_connections 4096; }",
      "http {",
      "  access_log off;",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `  ${k}_temp_path ${join(dir, k)};`),
      "  server {",
      `    listen ${host}:${port};`,
      '    location / { return 200 "ok\\n"; }',
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  return ["nginx", "-e", "stderr", "-p", dir, "-c", config];
}
