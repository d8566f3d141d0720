// The soak's verdicts (pure): each request of a fixed-rate stream is judged against the authorization
// policy in force while it ran. Two paths never change verdict (one always allowed, one always denied by
// a standing DENY); two paths swap verdicts each time a flipping DENY policy changes its path. A flip is
// "in force" from the moment the proxy ACKed the config that carries it; a request that overlaps the
// window between a flip's apply and that ACK is in transition and counted, not judged.

/** One request as the client saw it: wall-clock start and end in ms, the path, the status (0 = no answer). */
export interface SoakRequest {
  start: number;
  end: number;
  path: string;
  status: number;
}

/** One flip of the policy: which flipping path it denies, applied at `applied`, ACKed at `synced`. */
export interface SoakFlip {
  applied: number;
  synced: number;
  denies: string;
}

export interface SoakPaths {
  /** Always allowed: must answer with its own status. */
  allowed: string;
  /** Always denied by a standing DENY: must answer 403. */
  denied: string;
  /** The two paths the flipping policy alternates between denying. */
  flipping: readonly [string, string];
}

export interface SoakVerdict {
  requests: number;
  judged: number;
  inTransition: number;
  /** Requests the policy allowed that did not get their answer (an error, a reset, a 403, a 5xx). */
  allowedButFailed: SoakRequest[];
  /** Requests the policy denied that were answered by the app. */
  deniedButServed: SoakRequest[];
  /** Requests the policy denied that got neither the 403 nor the app's answer (an error, a reset). */
  deniedButErrored: SoakRequest[];
}

/** The status httpbin's `/status/CODE` answers when the request reaches it. */
export function statusOfPath(path: string): number {
  const m = /^\/status\/(\d{3})$/.exec(path);
  if (!m) throw new Error(`soak path ${path} is not /status/CODE`);
  return Number(m[1]);
}

/** Which flipping path is denied at time `t`: the last flip ACKed at or before `t` (flips sorted). */
function deniedAt(t: number, flips: readonly SoakFlip[]): string | undefined {
  let denied: string | undefined;
  for (const f of flips) {
    if (f.synced <= t) denied = f.denies;
    else break;
  }
  return denied;
}

function overlapsTransition(r: SoakRequest, flips: readonly SoakFlip[]): boolean {
  return flips.some((f) => r.start <= f.synced && r.end >= f.applied);
}

export function judgeSoak(
  requests: readonly SoakRequest[],
  flips: readonly SoakFlip[],
  paths: SoakPaths,
): SoakVerdict {
  const sorted = [...flips].sort((a, b) => a.synced - b.synced);
  const verdict: SoakVerdict = {
    requests: requests.length,
    judged: 0,
    inTransition: 0,
    allowedButFailed: [],
    deniedButServed: [],
    deniedButErrored: [],
  };
  for (const r of requests) {
    let denied: boolean;
    if (r.path === paths.allowed) denied = false;
    else if (r.path === paths.denied) denied = true;
    else if (paths.flipping.includes(r.path)) {
      if (overlapsTransition(r, sorted)) {
        verdict.inTransition++;
        continue;
      }
      const d = deniedAt(r.start, sorted);
      if (d === undefined) {
        // Before the first flip was in force: not part of the run.
        verdict.inTransition++;
        continue;
      }
      denied = d === r.path;
    } else throw new Error(`soak request for unknown path ${r.path}`);
    verdict.judged++;
    const served = r.status === statusOfPath(r.path);
    if (denied && served) verdict.deniedButServed.push(r);
    else if (denied && r.status !== 403) verdict.deniedButErrored.push(r);
    else if (!denied && !served) verdict.allowedButFailed.push(r);
  }
  return verdict;
}
