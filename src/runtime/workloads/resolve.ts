// Turns a pod's container into the host process that runs it: its own `command` (Kubernetes semantics,
// mapped onto the host's binaries) or the built-in stand-in for its image. Pure apart from looking up
// executables on the host, which callers can replace.
import { accessSync, constants } from "node:fs";
import { basename, delimiter, isAbsolute, join } from "node:path";

import { ShoalError } from "../../api/errors.js";
import { imageBehaviour, parseImageRef, SUPPORTED_IMAGES } from "./images.js";
import { standInTool } from "./tools.js";

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[] | Record<string, string>;
}

export interface ResolveOptions {
  /** The node binary and the built stand-in entry point (`dist/src/runtime/workloads/main.js`). */
  nodeBinary: string;
  workloadsMain: string;
  /** Where the container is, for messages (e.g. `Pod foo/curl-1`). */
  owner?: string;
  /** Finds a bare command on the host; defaults to a search of PATH. */
  lookPath?: (name: string) => string | undefined;
  /** Whether an absolute path is an executable on the host. */
  isExecutable?: (path: string) => boolean;
}

export interface ResolvedContainer {
  argv: string[];
  env: Record<string, string>;
}

function hostIsExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hostLookPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (dir !== "" && hostIsExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Kubernetes' `$(VAR)` expansion in command, args and env values: defined variables are replaced, `$$`
 * is a literal `$`, and references to undefined variables stay as written.
 */
export function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$(\$|\(([A-Za-z_][A-Za-z0-9_.-]*)\))/g, (whole, escaped: string, name?: string) => {
    if (escaped === "$") return "$";
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : whole;
  });
}

/** The container's env as a map; each value may refer to the variables defined before it. */
export function containerEnv(env: ContainerSpec["env"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (env === undefined) return out;
  const entries = Array.isArray(env) ? env : Object.entries(env).map(([name, value]) => ({ name, value }));
  // valueFrom (fieldRef, secretKeyRef, …) has nothing to read from on the local cluster: left unset.
  for (const entry of entries) if (entry.value !== undefined) out[entry.name] = expandVars(entry.value, out);
  return out;
}

function describe(container: ContainerSpec, options: ResolveOptions): string {
  const where = options.owner !== undefined ? `${options.owner}: ` : "";
  const image = container.image !== undefined ? ` (image ${container.image})` : "";
  return `${where}container "${container.name}"${image}`;
}

/**
 * The host executable for a container's command: an absolute path the host has is used as is; otherwise
 * its base name is looked up in the host's PATH (`/bin/sleep` → the host's sleep, `sh` → the host shell).
 */
function hostCommand(command: string, container: ContainerSpec, options: ResolveOptions): string {
  const isExecutable = options.isExecutable ?? hostIsExecutable;
  const lookPath = options.lookPath ?? hostLookPath;
  if (isAbsolute(command) && isExecutable(command)) return command;
  const found = lookPath(basename(command));
  if (found !== undefined) return found;
  const hint =
    container.image !== undefined && imageBehaviour(container.image)?.kind === "standIn"
      ? `remove "command" to run the built-in stand-in for ${parseImageRef(container.image).repository}, or `
      : "";
  throw new ShoalError(
    "CONTAINER_COMMAND_NOT_FOUND",
    `${describe(container, options)}: command "${command}" is not available on this host; ${hint}use a command ` +
      `the host has (containers run host commands in the pod's network namespace)`,
  );
}

function hostArgv(argv: string[], container: ContainerSpec, options: ResolveOptions): string[] {
  const [command, ...rest] = argv;
  if (command === undefined || command === "") {
    throw new ShoalError("CONTAINER_INVALID", `${describe(container, options)}: "command" is empty`);
  }
  // A tool the image would have and the host lacks (`/usr/bin/fortio`) runs its stand-in.
  const tool = standInTool(command, {
    lookPath: options.lookPath ?? hostLookPath,
    isExecutable: options.isExecutable ?? hostIsExecutable,
  });
  if (tool !== undefined) return [options.nodeBinary, options.workloadsMain, tool, ...rest];
  return [hostCommand(command, container, options), ...rest];
}

export function resolveContainer(container: ContainerSpec, options: ResolveOptions): ResolvedContainer {
  const env = containerEnv(container.env);
  const expand = (list: string[] | undefined) => list?.map((item) => expandVars(item, env));
  const command = expand(container.command);
  const args = expand(container.args);

  // Kubernetes: `command` replaces the image's entrypoint and its default args; `args` follow it.
  if (command !== undefined && command.length > 0) {
    return { argv: hostArgv([...command, ...(args ?? [])], container, options), env };
  }
  if (container.image === undefined || container.image.trim() === "") {
    throw new ShoalError(
      "CONTAINER_NO_IMAGE",
      `${describe(container, options)} has neither an image nor a command; add a "command" (a host command to ` +
        `run in the pod's network namespace) or an "image" with a built-in stand-in: ${SUPPORTED_IMAGES.join(", ")}`,
    );
  }
  const behaviour = imageBehaviour(container.image);
  if (behaviour === undefined) {
    throw new ShoalError(
      "CONTAINER_UNSUPPORTED_IMAGE",
      `${describe(container, options)}: there is no container runtime and no built-in stand-in for image ` +
        `"${parseImageRef(container.image).repository}"; add a "command" (a host command to run in the pod's ` +
        `network namespace) or use one of the supported images: ${SUPPORTED_IMAGES.join(", ")}`,
    );
  }
  const standIn = (workloadArgs: string[]) => [
    options.nodeBinary,
    options.workloadsMain,
    behaviour.workload,
    ...workloadArgs,
  ];
  const given = args !== undefined && args.length > 0 ? args : undefined;
  switch (behaviour.kind) {
    case "standIn":
      // Kubernetes: `args` alone replace the image's default args and go to its entrypoint.
      return { argv: standIn([...behaviour.fixedArgs, ...(given ?? behaviour.defaultArgs)]), env };
    case "shell":
      // No entrypoint in these images: the args are the command; with none, the pod just sleeps.
      return { argv: given !== undefined ? hostArgv(given, container, options) : standIn([]), env };
    case "curl":
      // curlimages/curl's entrypoint runs curl when the first arg is an option, else runs the args.
      if (given === undefined) return { argv: standIn([]), env };
      return {
        argv: hostArgv(given[0]!.startsWith("-") ? ["curl", ...given] : given, container, options),
        env,
      };
  }
}
