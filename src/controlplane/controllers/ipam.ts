// IP address management for the local cluster: the lowest free address of an IPv4 range. Allocations
// live in the resources themselves (Pod status.podIP, Service spec.clusterIP), so rebuilding the used set
// from the store after a restart gives every pod and service the address it had.
import { ShoalError } from "../../api/errors.js";

function toInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new ShoalError("BAD_IP", `"${ip}" is not an IPv4 address`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Range {
  first: number;
  last: number;
}

/** The usable host range of `cidr`, skipping the network address and the first `reserved` hosts. */
export function rangeOf(cidr: string, reserved = 1): Range {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const base = (toInt(ip!) & ~(size - 1)) >>> 0;
  return { first: base + 1 + reserved, last: base + size - 2 };
}

export function inRange(range: Range, ip: string): boolean {
  try {
    const n = toInt(ip);
    return n >= range.first && n <= range.last;
  } catch {
    return false;
  }
}

/** An allocator over one range; `used` are addresses already held (from the store). */
export class Ipam {
  private readonly used = new Set<number>();

  constructor(
    private readonly range: Range,
    used: Iterable<string> = [],
  ) {
    for (const ip of used) this.reserve(ip);
  }

  /** Marks `ip` as held; false when it is outside the range or already held. */
  reserve(ip: string): boolean {
    if (!inRange(this.range, ip)) return false;
    const n = toInt(ip);
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    if (inRange(this.range, ip)) this.used.delete(toInt(ip));
  }

  allocate(): string {
    for (let n = this.range.first; n <= this.range.last; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return toIp(n);
      }
    }
    throw new ShoalError("IPAM_EXHAUSTED", "no free address left in the range");
  }
}
