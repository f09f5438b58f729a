// A minimal layer-4 load balancer, like kube-proxy: each new client connection goes
// to the next endpoint in the list (round robin) and stays there. It neither retries
// nor health-checks; an endpoint leaves the list only when the controller removes it.
// When the chosen endpoint refuses, the client's connection is reset.
import { createServer, connect } from "node:net";

/** @typedef {{ host: string, port: number }} Endpoint */

export class TcpProxy {
  constructor() {
    /** @type {Endpoint[]} */
    this.endpoints = [];
    this.next = 0;
    /** @type {Set<import("node:net").Socket>} */
    this.sockets = new Set();
    this.server = createServer((client) => this.accept(client));
  }

  /** @returns {Promise<Endpoint>} the address it listens on */
  listen(host = "127.0.0.1", port = 0) {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const address = /** @type {import("node:net").AddressInfo} */ (this.server.address());
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** @param {Endpoint} endpoint */
  add(endpoint) {
    this.endpoints.push(endpoint);
  }

  /** @param {Endpoint} endpoint */
  remove(endpoint) {
    this.endpoints = this.endpoints.filter((e) => e.host !== endpoint.host || e.port !== endpoint.port);
  }

  close() {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve(undefined)));
  }

  /** @param {import("node:net").Socket} client */
  accept(client) {
    this.track(client);
    if (this.endpoints.length === 0) {
      client.resetAndDestroy();
      return;
    }
    const endpoint = this.endpoints[this.next++ % this.endpoints.length];
    const upstream = connect(endpoint.port, endpoint.host);
    this.track(upstream);
    upstream.on("error", () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.on("error", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** @param {import("node:net").Socket} socket */
  track(socket) {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
