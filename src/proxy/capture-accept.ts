// The first steps of every captured connection, on the inbound and the outbound listener alike: a proxy
// with no config accepts nothing, and a socket with no original destination (not redirected here) is
// refused; otherwise the connection's record, the current routing table and the destination.
import type { Socket } from "node:net";
import { hostPort } from "./access-log.js";
import { ConnectionRecord } from "./connection-record.js";
import type { ProxyRuntime } from "./connection-record.js";
import type { RoutingTable } from "./routing-table.js";

const noop = () => undefined;

export interface AcceptedConnection {
  rec: ConnectionRecord;
  table: RoutingTable;
  dst: { address: string; port: number };
}

/** Undefined when the connection was refused (and logged) already. */
export function acceptCaptured(rt: ProxyRuntime, socket: Socket): AcceptedConnection | undefined {
  socket.on("error", noop);
  socket.setNoDelay(true);
  const rec = new ConnectionRecord(rt, socket);
  const table = rt.table();
  if (!table) return void rec.refuse(socket, { flag: "NR", details: "no_config" });
  let dst: { address: string; port: number } | undefined;
  try {
    dst = rt.originalDst(socket);
  } catch {
    dst = undefined;
  }
  if (!dst) return void rec.refuse(socket, { flag: "NR", details: "no_original_destination" });
  rec.entry.downstreamLocal = hostPort(dst.address, dst.port);
  return { rec, table, dst };
}
