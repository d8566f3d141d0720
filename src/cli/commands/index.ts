// The list of `shoal` commands. Each lives in its own module.
import type { Command } from "../io.js";
import { analyzeCommand } from "./analyze.js";
import { authzCheckCommand } from "./authz-check.js";
import { applyCommand } from "./apply.js";
import { createNamespaceCommand } from "./create-namespace.js";
import { deleteCommand } from "./delete.js";
import { downCommand } from "./down.js";
import { execCommand } from "./exec.js";
import { getCommand } from "./get.js";
import { installCommand } from "./install.js";
import { kubeInjectCommand } from "./kube-inject.js";
import { kubeconfigCommand } from "./kubeconfig.js";
import { labelCommand } from "./label.js";
import { logsCommand } from "./logs.js";
import { manifestGenerateCommand } from "./manifest.js";
import { proxyConfigCommand } from "./proxy-config.js";
import { proxyStatusCommand } from "./proxy-status.js";
import { rolloutRestartCommand } from "./rollout-restart.js";
import { routeCheckCommand } from "./route-check.js";
import { uninstallCommand } from "./uninstall.js";
import { upCommand } from "./up.js";

export const COMMANDS: Command[] = [
  upCommand,
  downCommand,
  applyCommand,
  getCommand,
  deleteCommand,
  createNamespaceCommand,
  labelCommand,
  rolloutRestartCommand,
  execCommand,
  logsCommand,
  analyzeCommand,
  kubeInjectCommand,
  authzCheckCommand,
  routeCheckCommand,
  proxyStatusCommand,
  proxyConfigCommand,
  kubeconfigCommand,
  installCommand,
  uninstallCommand,
  manifestGenerateCommand,
];
