#!/usr/bin/env bash
# Measure what MPS changes for two concurrent CUDA processes on a real NVIDIA GPU (needs nvidia-smi,
# nvidia-cuda-mps-control and PyTorch with CUDA). Runs one process alone, two processes time-sliced (no MPS), then
# the same two under an MPS control daemon started in a temporary pipe directory, and prints their throughput.
# It never changes the compute mode (MPS also works in DEFAULT mode) and checks at the end that every GPU setting it
# can read is as it found it; the daemon is stopped on every exit path.
#
# usage: tests/gpu/mps_check.sh [GPU_INDEX [SECONDS_PER_RUN [MATRIX_SIZE]]]     (PYTHON selects the interpreter)
set -euo pipefail

GPU=${1:-0}
DURATION=${2:-10}
SIZE=${3:-1024}
PYTHON=${PYTHON:-python3}
QUERY=name,uuid,compute_mode,persistence_mode,mig.mode.current,clocks.applications.graphics,clocks.applications.memory,power.limit

die() {
    echo "mps_check: $*" >&2
    exit 2
}

for tool in nvidia-smi nvidia-cuda-mps-control "$PYTHON"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
"$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || die "PyTorch cannot use CUDA"
# The time-sliced baseline must not reach an MPS daemon that already runs (default pipe /tmp/nvidia-mps).
[ -z "${CUDA_MPS_PIPE_DIRECTORY:-}" ] || die "unset CUDA_MPS_PIPE_DIRECTORY first"
[ ! -e /tmp/nvidia-mps/control ] || die "an MPS control daemon already runs on /tmp/nvidia-mps; stop it or use another GPU host"

settings() {
    nvidia-smi -i "$GPU" --query-gpu="$QUERY" --format=csv,noheader
}
BEFORE=$(settings) || die "no GPU with index $GPU"
MIG=$(nvidia-smi -i "$GPU" --query-gpu=mig.mode.current --format=csv,noheader)
[ "$MIG" != "Enabled" ] || die "GPU $GPU has MIG enabled; MPS does not run on MIG devices"

WORK=$(mktemp -d /tmp/mps_check.XXXXXX)
PIPE_DIR=$WORK/pipe
LOG_DIR=$WORK/log
mkdir -p "$PIPE_DIR" "$LOG_DIR"
DAEMON=0

mps_control() {
    CUDA_MPS_PIPE_DIRECTORY=$PIPE_DIR CUDA_MPS_LOG_DIRECTORY=$LOG_DIR nvidia-cuda-mps-control "$@"
}

cleanup() {
    local rc=$?
    if [ "$DAEMON" = 1 ]; then
        echo quit | mps_control || true
        for _ in $(seq 50); do
            [ -e "$PIPE_DIR/control" ] || break
            sleep 0.2
        done
    fi
    local after
    after=$(settings || true)
    rm -rf "$WORK"
    if [ "$after" != "$BEFORE" ]; then
        echo "mps_check: GPU $GPU settings changed!" >&2
        echo "  before: $BEFORE" >&2
        echo "  after:  $after" >&2
        exit 1
    fi
    echo "GPU settings unchanged: $after"
    exit "$rc"
}
trap cleanup EXIT

cat > "$WORK/worker.py" << 'PY'
import json, os, sys, time
import torch

duration, size, ready, go = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
a = torch.randn(size, size, device="cuda")
b = torch.randn(size, size, device="cuda")
for _ in range(20):
    a @ b
torch.cuda.synchronize()
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
count, start = 0, time.perf_counter()
while time.perf_counter() - start < duration:
    for _ in range(20):
        c = a @ b
    torch.cuda.synchronize()
    count += 20
elapsed = time.perf_counter() - start
print(json.dumps({"iters_per_s": count / elapsed, "tflops": 2 * size ** 3 * count / elapsed / 1e12}))
PY

# Start N workers, release them together once all are initialised, print "label: a + b = total it/s".
run() {
    local label=$1 n=$2 i
    local pids=()
    rm -f "$WORK"/ready-* "$WORK/go" "$WORK"/out-*
    for i in $(seq "$n"); do
        CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=$GPU "$PYTHON" "$WORK/worker.py" "$DURATION" "$SIZE" \
            "$WORK/ready-$i" "$WORK/go" > "$WORK/out-$i" &
        pids+=("$!")
    done
    for i in $(seq "$n"); do
        for _ in $(seq 600); do
            [ -e "$WORK/ready-$i" ] && break
            sleep 0.1
        done
    done
    touch "$WORK/go"
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
    "$PYTHON" - "$label" "$WORK"/out-* << 'PY'
import json, sys
results = [json.load(open(path)) for path in sys.argv[2:]]
rates = [r["iters_per_s"] for r in results]
print("%-12s %d process(es): %s = %.1f matmul/s (%.2f TFLOP/s)"
      % (sys.argv[1], len(rates), " + ".join("%.1f" % r for r in rates), sum(rates), sum(r["tflops"] for r in results)))
PY
}

DRIVER=$(nvidia-smi -i "$GPU" --query-gpu=driver_version --format=csv,noheader)
TORCH=$("$PYTHON" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')
echo "GPU $GPU: $(nvidia-smi -i "$GPU" --query-gpu=name --format=csv,noheader), driver $DRIVER, torch $TORCH"
echo "workload: ${SIZE}x${SIZE} fp32 matmul, ${DURATION} s per run, compute mode left as is ($(nvidia-smi -i "$GPU" --query-gpu=compute_mode --format=csv,noheader))"
run alone 1
run time-sliced 2

mps_control -d
DAEMON=1
export CUDA_MPS_PIPE_DIRECTORY=$PIPE_DIR
run MPS 2
unset CUDA_MPS_PIPE_DIRECTORY
# Evidence only (printed, not parsed): the daemon's log lists the clients it served.
echo "MPS control log:"
sed 's/^/  /' "$LOG_DIR/control.log" || true
