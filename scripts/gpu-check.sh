#!/usr/bin/env bash
# The checks that need a GPU, in one run (for a machine with an NVIDIA GPU and the CUDA toolkit):
#   1. the GPU tests (carried binaries, each test in its own process under `timeout`), or a build
#      with CUDA and every test (ctest);
#   2. the SASS listing: the tensor instructions each kernel issues (needs cuobjdump, part of the
#      CUDA toolkit); wgmma kernels without GMMA or mma.sync kernels without MMA fail it, and the
#      FP64 kernel's DMMA shape is reported (the host counts work per PTX instruction, whatever
#      shape ptxas splits it into);
#   3. a quick CUDA measurement under `timeout`: JSON report and text table;
#   4. fault injection: a refused launch, an illegal address and a hung kernel each give a clear
#      reason, a written report and a non-zero exit (CHIPGAUGE_CUDA_FAULT, docs/measurement.md).
# With carried binaries the whole run stays under 8 minutes (each step's timeout is cut to what is
# left of a 450 s budget). It prints a one-screen summary (OUT_DIR/summary.txt): checks, tensor
# rates per precision with the fraction of peak at the NVML clock, DRAM, copies, cuBLASLt and what
# failed; the details are in OUT_DIR/details.txt and the other files there.
#   scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]     (default architectures: 90a)
# With gpu-carry/ from scripts/gpu-prepare.sh (built on the development machine and carried), it runs
# those binaries and builds nothing; otherwise it builds here with ctest.
set -uo pipefail
out="${1:?usage: scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]}"
archs="${2:-90a}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary="$out/summary.txt"
details="$out/details.txt"
checks="$out/checks.txt"
: > "$details"
: > "$checks"
# check: a line of the summary's check block (and the details); detail: the details only;
# progress: one line on stderr while the run goes on.
check() { echo "$*" | tee -a "$details" >> "$checks"; }
detail() { echo "$*" >> "$details"; }
progress() { echo "[gpu-check $((SECONDS - t0)) s] $*" >&2; }
failed=0
t0=$SECONDS
budget=450
# Seconds a step may take: at most $1, and no more than what is left of the budget less $2
# (reserved for the steps after it); at least 5.
allow() { local left=$((t0 + budget - SECONDS - ${2:-0})); local s=$(($1 < left ? $1 : left)); echo $((s < 5 ? 5 : s)); }

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1 || true

# The carried binaries load libcublasLt.so.13 from the CUDA toolkit; where the loader does not find
# it, look where toolkits and NVIDIA's Python wheels keep it.
if [ -x gpu-carry/chipgauge ] && ldd gpu-carry/chipgauge 2>/dev/null | grep -q 'libcublasLt.so.13 => not found'; then
  lib=$(find /usr/local /usr/lib /opt $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
          -name libcublasLt.so.13 2>/dev/null | head -1)
  [ -n "$lib" ] && export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && detail "libcublasLt from $lib"
fi

# Binaries: those scripts/gpu-prepare.sh built elsewhere and carried in gpu-carry/, when they run
# here; else a build here (which needs the Debian libraries of scripts/install-deps.sh).
if [ -x gpu-carry/chipgauge ] && gpu-carry/chipgauge --version > "$out/carried.txt" 2>&1; then
  bin=gpu-carry/chipgauge
  archs=$(cat gpu-carry/ARCHITECTURES 2>/dev/null || echo "$archs")
  check "carried build: gpu-carry/ for $(cat gpu-carry/ARCHITECTURES 2>/dev/null), from commit $(cat gpu-carry/GIT_SHA 2>/dev/null)"
  # Each GPU test in its own process, as ctest runs them: an injected illegal address poisons the
  # process's CUDA context, which must not reach the next test. Each under `timeout`, and the
  # tests together within 180 s, so that one hang cannot eat the GPU time.
  export CHIPGAUGE_SPECS_DIR="$PWD/specs"
  progress "GPU tests"
  passed=0
  skipped=0
  total=0
  notrun=""
  SECONDS_TESTS=$SECONDS
  for t in $(timeout 30 gpu-carry/cuda_gpu_test --gtest_list_tests | awk '/^[^ ]/ {suite=$1} /^  / {print suite $1}'); do
    total=$((total + 1))
    spent=$((SECONDS - SECONDS_TESTS))
    if [ "$spent" -ge 180 ]; then notrun="$notrun $t"; continue; fi
    timeout -k 5 "$(allow $((180 - spent)) 200)" gpu-carry/cuda_gpu_test --gtest_filter="$t" > "$out/gpu-test.tmp" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
      if grep -q '^\[  SKIPPED \]' "$out/gpu-test.tmp"; then skipped=$((skipped + 1)); else passed=$((passed + 1)); fi
    else
      check "  GPU test FAILED: $t ($([ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "timed out" || echo "exit $rc"); see gpu-tests.log)"
      failed=1
    fi
    cat "$out/gpu-test.tmp" >> "$out/gpu-tests.log"
  done
  rm -f "$out/gpu-test.tmp"
  [ -n "$notrun" ] && { check "  GPU tests not run (180 s spent):$notrun"; failed=1; }
  check "GPU tests ($((SECONDS - SECONDS_TESTS)) s): $passed passed, $skipped skipped, $((total - passed - skipped)) failed or not run, of $total"
else
  [ -x gpu-carry/chipgauge ] && check "carried build does not run here ($(head -1 "$out/carried.txt")): building here"
  progress "building (not counted in the 8-minute budget)"
  SECONDS=0
  {
    cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPGAUGE_CUDA=ON \
      "-DCHIPGAUGE_CUDA_ARCHITECTURES=$archs" -DCHIPGAUGE_BUILD_BENCHMARKS=OFF &&
      cmake --build build-gpu -j"$(nproc)"
  } > "$out/build.log" 2>&1 || { check "build failed: see build.log"; tail -30 "$out/build.log"; cp "$checks" "$summary"; exit 1; }
  check "build: ${SECONDS} s"
  t0=$SECONDS
  bin=./build-gpu/apps/chipgauge
  progress "ctest"
  ctest --test-dir build-gpu --output-on-failure -j4 --timeout "$(allow 120 250)" > "$out/ctest.log" 2>&1 || failed=1
  check "tests ($((SECONDS - t0)) s): $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
fi

# SASS: every wgmma kernel must contain GMMA instructions, every mma.sync kernel MMA ones; the
# FP64 kernel's DMMA shape and the FP8 mma.sync kernel's instructions are reported.
cuobjdump=$(command -v cuobjdump || echo "${CUDA_HOME:-/usr/local/cuda}/bin/cuobjdump")
cufilt=$(command -v cu++filt || echo "${CUDA_HOME:-/usr/local/cuda}/bin/cu++filt")
if [ -x "$cuobjdump" ]; then
  progress "SASS"
  timeout "$(allow 60 200)" "$cuobjdump" -sass "$bin" > "$out/sass.txt" 2>&1
  # One line per (kernel, full opcode with its shape and types), with the count.
  awk '/Function :/ {fn=$3} /GMMA|HMMA|IMMA|DMMA|QMMA/ {for (i=1;i<=NF;i++) if ($i ~ /^(HGMMA|QGMMA|IGMMA|HMMA|IMMA|DMMA|QMMA)/) n[fn" "$i]++}
       END {for (k in n) print k, n[k]}' "$out/sass.txt" | sort > "$out/sass-tensor-ops.txt"
  if [ -x "$cufilt" ]; then "$cufilt" < "$out/sass-tensor-ops.txt" > "$out/sass-tensor-ops-demangled.txt" 2>/dev/null; fi
  detail "SASS tensor instructions per kernel (function, opcode, count):"
  sed 's/^/  /' "$out/sass-tensor-ops.txt" >> "$details"
  if [[ "$archs" == *90a* ]]; then
    # Kernels by name in the sm_90a code: wgmma_kernel instances must issue GMMA.
    kernels=$(awk '/code for sm_90a/ {a=1; next} /code for sm_/ {a=0} a && /Function :/ {print $3}' "$out/sass.txt" | sort -u)
    wg_total=$(grep -c 'wgmma_kernel' <<< "$kernels")
    wg_gmma=$(grep 'wgmma_kernel' "$out/sass-tensor-ops.txt" | grep 'GMMA' | awk '{print $1}' | sort -u | wc -l)
    if [ "$wg_total" -eq 0 ] || [ "$wg_gmma" -lt "$wg_total" ]; then
      check "SASS check FAILED: GMMA instructions in $wg_gmma of $wg_total wgmma kernels"
      failed=1
    else
      check "SASS: GMMA in all $wg_total wgmma kernels"
    fi
    mma_total=$(grep -c 'mma_kernel' <<< "$(grep -v wgmma_kernel <<< "$kernels")")
    mma_with=$(grep -v wgmma_kernel "$out/sass-tensor-ops.txt" | grep 'mma_kernel' | awk '{print $1}' | sort -u | wc -l)
    if [ "$mma_with" -lt "$mma_total" ]; then
      check "SASS check FAILED: tensor instructions in $mma_with of $mma_total mma.sync kernels"
      failed=1
    fi
    # mma.sync with FP8 operands is not native on 9.0 (converted to FP16: HMMA, not QMMA); the
    # backend skips it there, the listing shows what ptxas made of it.
    fp8ops=$(grep -v wgmma_kernel "$out/sass-tensor-ops.txt" | grep 'mma_kernelILN.*tensor_opE4E' | awk '{print $2 " x" $3}' | tr '\n' ' ')
    check "SASS: FP8 mma.sync kernel (skipped on 9.0) issues ${fp8ops:-nothing found}"
    # The FP64 kernel: the host counts 16x8x16 per PTX instruction; ptxas may issue it as one
    # DMMA.16816 or as several smaller DMMA (the same work): report what it chose, fail only
    # when there is no DMMA at all.
    dmma=$(grep 'DMMA' "$out/sass-tensor-ops.txt" | awk '{print $2 " x" $3}' | sort -u | tr '\n' ' ')
    if [ -z "$dmma" ]; then
      check "SASS check FAILED: the FP64 mma.sync kernel issues no DMMA"
      failed=1
    else
      check "SASS: FP64 mma.sync kernel issues ${dmma% } (PTX m16n8k16; counted per PTX instruction)"
    fi
  fi
else
  check "SASS check skipped: cuobjdump not found"
fi

# The quick measurement: at most 270 s, leaving 100 s for the faults.
progress "quick measurement"
s0=$SECONDS
limit=$(allow 270 100)
timeout -k 10 "$limit" "$bin" --specs-dir specs measure --backend cuda --quick --out "$out/report.json" \
  > "$out/measure.txt" 2> "$out/measure.err"
measured=$?
case "$measured" in
  124|137) check "quick measurement: TIMED OUT after ${limit} s (no report)"; failed=1 ;;
  0) check "quick measurement ($((SECONDS - s0)) s): exit 0" ;;
  *) check "quick measurement ($((SECONDS - s0)) s): exit $measured (see measure.err)"; failed=1 ;;
esac
detail "quick measurement table:"
cat "$out/measure.txt" >> "$details"
sed 's/^/  /' "$out/measure.err" >> "$details"

# Faults: each must end non-zero with the report written and the fault named in it.
for fault in launch illegal hang; do
  progress "fault $fault"
  s0=$SECONDS
  CHIPGAUGE_CUDA_FAULT=$fault CHIPGAUGE_CUDA_DEADLINE_S=5 timeout -k 5 "$(allow 30)" "$bin" --specs-dir specs measure --backend cuda \
    --filter "^(fault_$fault|fma_fp32)\$" --out "$out/fault-$fault.json" > "$out/fault-$fault.txt" 2> "$out/fault-$fault.err"
  rc=$?
  reason=$(grep -o '"reason": "[^"]*"' "$out/fault-$fault.json" 2>/dev/null | grep -v '""' | head -1 | cut -c1-100)
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || [ ! -s "$out/fault-$fault.json" ]; then
    check "fault $fault: FAILED ($((SECONDS - s0)) s, exit $rc, report $([ -s "$out/fault-$fault.json" ] && echo written || echo MISSING))"
    failed=1
  else
    check "fault $fault: ok ($((SECONDS - s0)) s, exit $rc) ${reason}"
  fi
  { sed 's/^/    /' "$out/fault-$fault.err"; grep -E '"(name|status|reason)"' "$out/fault-$fault.json" 2>/dev/null | sed 's/^ */    /'; } >> "$details"
done

# The summary: checks first, then the figures (scripts/gpu-summary.py; the text table without python3).
{
  echo "gpu-check: $([ "$failed" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s; details in $out"
  cat "$checks"
  if [ -s "$out/report.json" ] && command -v python3 > /dev/null; then
    python3 scripts/gpu-summary.py "$out/report.json" 2>&1
  elif [ -s "$out/measure.txt" ]; then
    head -60 "$out/measure.txt"
  fi
} > "$summary"
cat "$summary"
exit "$failed"
