/**
 * A small fault-injecting HTTP proxy for tests: loopback only, bounded in requests, in front of a
 * real server. Each request takes the next scripted behaviour; the proxy records when requests
 * arrived so tests can measure the request rate.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "pass" | "hang" | "reset" | "malformed" | "empty" | { status: number; retryAfter?: string; body?: unknown };

export interface FaultProxy {
  url: string;
  arrivals: number[];
  /** Requests whose client went away before an answer (cancelled uploads). */
  aborted: number;
  script: Fault[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, script: Fault[] = [], maxRequests = 200): Promise<FaultProxy> {
  const target = new URL(upstream);
  const hanging = new Set<ServerResponse>();
  const proxy: FaultProxy = { url: "", arrivals: [], aborted: 0, script, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    proxy.arrivals.push(Date.now());
    req.on("aborted", () => proxy.aborted++);
    res.on("close", () => {
      if (!res.writableFinished) proxy.aborted++;
    });
    if (proxy.arrivals.length > maxRequests) {
      res.writeHead(503).end();
      return;
    }
    const fault = proxy.script.shift() ?? "pass";
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      if (fault === "hang") {
        hanging.add(res);
        return;
      }
      if (fault === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault === "empty") {
        // A server that heard nothing: a well-formed answer with no words at all.
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ text: "", segments: [], words: [] }));
        return;
      }
      if (fault === "malformed") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"text": "half a respo');
        return;
      }
      if (typeof fault === "object") {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
        res.writeHead(fault.status, headers).end(JSON.stringify(fault.body ?? { error: { message: `injected ${fault.status}`, type: "test", code: null } }));
        return;
      }
      const up = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url!.replace(/^\/v1/, target.pathname.replace(/\/$/, "")),
          headers: req.headers,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
