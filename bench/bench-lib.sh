# What the bench/*.sh wrappers share, sourced by each: checks of the tools, the build and the numeric
# arguments, and running the Node orchestrator with its own temp dir (exported as BENCH_DIR) and a cleanup
# that stops it, then every process it listed by PID in "$BENCH_DIR/pids", and removes the dir, also on
# failure or Ctrl-C. The caller sets BENCH_NAME (its file name, e.g. conns.sh) before calling these.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_need_tools TOOL...: exits 2 naming the missing tools and how to install them.
bench_need_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "$BENCH_NAME: missing ${missing[*]}; on Debian/Ubuntu: apt-get install -y ${missing[*]/node/nodejs}" >&2
    exit 2
  fi
}

# bench_need_js FILE: exits 2 unless the built orchestrator is there.
bench_need_js() {
  if [[ ! -f "$1" ]]; then
    echo "$BENCH_NAME: $1 not found; run \`npm run build\` first" >&2
    exit 2
  fi
}

# bench_positive_ints USAGE N...: exits 2 with the usage line unless every N is a positive integer.
bench_positive_ints() {
  local usage=$1 n
  shift
  for n in "$@"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $usage" >&2; exit 2; }
  done
}

# Stops the orchestrator (SIGTERM, up to BENCH_STOP_TICKS × 0.2 s, then SIGKILL); anything it left (it
# was killed, say) is listed by PID: SIGTERM, up to 2 s, then SIGKILL. Then the temp dir goes.
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    for _ in $(seq "$BENCH_STOP_TICKS"); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  if [[ -f "$BENCH_DIR/pids" ]]; then
    local pids pid alive
    mapfile -t pids <"$BENCH_DIR/pids"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.2
    done
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
  fi
  rm -rf "$BENCH_DIR"
  exit "$rc"
}

# bench_run STOP_TICKS COMMAND...: runs COMMAND in the background with a fresh BENCH_DIR and waits for it;
# the script exits with its status, after bench_cleanup.
bench_run() {
  BENCH_STOP_TICKS=$1
  shift
  BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-${BENCH_NAME%.sh}.XXXXXX")
  export BENCH_DIR
  BENCH_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "$@" &
  BENCH_PID=$!
  wait "$BENCH_PID"
}
