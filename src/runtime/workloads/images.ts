// Which built-in stand-in an image name stands for. Images are matched by repository path, ignoring the
// registry, tag and digest (`docker.io/istio/tcp-echo-server:1.3@sha256:…` → `istio/tcp-echo-server`).
import type { WorkloadName } from "./start.js";

export interface ImageRef {
  registry?: string;
  /** Repository path without registry, tag or digest; Docker Hub's `library/` dropped. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference the way Docker does: a first part with `.`, `:` or `localhost` is a registry. */
export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  const ref: ImageRef = { repository: "" };
  const at = rest.indexOf("@");
  if (at >= 0) {
    ref.digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    ref.tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    ref.registry = first;
    parts.shift();
  }
  if (parts.length > 1 && parts[0] === "library") parts.shift();
  ref.repository = parts.join("/").toLowerCase();
  return ref;
}

/**
 * What an image runs when its container has no `command`:
 * - `standIn`: the built-in stand-in, started with `fixedArgs` then the container's args (or
 *   `defaultArgs`, the image's own default arguments, when the container gives none);
 * - `shell`: an image with no entrypoint of its own (busybox, alpine, …): the container's args are the
 *   command, and with no args it sleeps;
 * - `curl`: curlimages/curl's entrypoint: args starting with `-` go to curl, others are the command.
 */
export interface ImageBehaviour {
  kind: "standIn" | "shell" | "curl";
  workload: WorkloadName;
  fixedArgs: string[];
  defaultArgs: string[];
}

interface ImageRule {
  /** Shown in the "supported images" list. */
  examples: string[];
  matches(lastSegment: string): boolean;
  behaviour: ImageBehaviour;
}

const standIn = (
  workload: WorkloadName,
  fixedArgs: string[] = [],
  defaultArgs: string[] = [],
): ImageBehaviour => ({
  kind: "standIn",
  workload,
  fixedArgs,
  defaultArgs,
});

const SHELL_IMAGES = new Set(["busybox", "alpine", "ubuntu", "debian", "netshoot", "sleep"]);

const RULES: ImageRule[] = [
  {
    examples: ["istio/tcp-echo-server"],
    matches: (last) => last === "tcp-echo-server",
    behaviour: standIn("tcp-echo", [], ["9000", "hello"]),
  },
  {
    examples: ["mccutchen/go-httpbin"],
    matches: (last) => last === "go-httpbin",
    behaviour: standIn("httpbin", ["--default-port", "8080", "--flavor", "go"]),
  },
  {
    examples: ["kennethreitz/httpbin", "kong/httpbin"],
    matches: (last) => last === "httpbin",
    behaviour: standIn("httpbin", ["--default-port", "80", "--flavor", "python"]),
  },
  {
    examples: ["istio/examples-bookinfo-details-v1"],
    matches: (last) => last.startsWith("examples-bookinfo-details"),
    behaviour: standIn("details"),
  },
  {
    examples: ["istio/examples-bookinfo-productpage-v1"],
    matches: (last) => last.startsWith("examples-bookinfo-productpage"),
    behaviour: standIn("productpage"),
  },
  {
    // The image's version is in its name (`examples-bookinfo-reviews-v3`); each bakes its own env.
    examples: [
      "istio/examples-bookinfo-reviews-v1",
      "istio/examples-bookinfo-reviews-v2",
      "istio/examples-bookinfo-reviews-v3",
    ],
    matches: (last) => /^examples-bookinfo-reviews-v\d+$/.test(last),
    behaviour: standIn("reviews"),
  },
  {
    examples: ["istio/examples-bookinfo-ratings-v1"],
    matches: (last) => last.startsWith("examples-bookinfo-ratings"),
    behaviour: standIn("ratings"),
  },
  {
    examples: ["istio/examples-helloworld-v1", "istio/examples-helloworld-v2"],
    matches: (last) => /^examples-helloworld-v\d+$/.test(last),
    behaviour: standIn("helloworld"),
  },
  {
    // fortio's entrypoint is /usr/bin/fortio with `server` as its default command.
    examples: ["fortio/fortio"],
    matches: (last) => last === "fortio",
    behaviour: standIn("fortio", [], ["server"]),
  },
  {
    examples: ["curlimages/curl", "curl"],
    matches: (last) => last === "curl" || last === "curl-ssl",
    behaviour: { kind: "curl", workload: "sleep", fixedArgs: [], defaultArgs: [] },
  },
  {
    examples: [...SHELL_IMAGES],
    matches: (last) => SHELL_IMAGES.has(last),
    behaviour: { kind: "shell", workload: "sleep", fixedArgs: [], defaultArgs: [] },
  },
];

/** Every image name the stand-ins answer to, for error messages and docs. */
export const SUPPORTED_IMAGES: string[] = RULES.flatMap((rule) => rule.examples);

/** The `-vN` an image name ends with (`examples-bookinfo-reviews-v2` → `v2`). */
function versionOf(last: string): string | undefined {
  return /-(v\d+)$/.exec(last)?.[1];
}

export function imageBehaviour(image: string): ImageBehaviour | undefined {
  const { repository } = parseImageRef(image);
  const last = repository.split("/").pop() ?? "";
  const behaviour = RULES.find((rule) => rule.matches(last))?.behaviour;
  if (behaviour === undefined) return undefined;
  // Versioned stand-ins learn their version from the image, as each version's image bakes it in.
  const version = versionOf(last);
  if ((behaviour.workload === "reviews" || behaviour.workload === "helloworld") && version !== undefined) {
    return { ...behaviour, fixedArgs: ["--version", version, ...behaviour.fixedArgs] };
  }
  return behaviour;
}
