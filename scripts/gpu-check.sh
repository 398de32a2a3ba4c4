#!/usr/bin/env bash
# The checks that need a GPU, in one run (for a machine with an NVIDIA GPU and the CUDA toolkit):
#   1. the GPU tests (carried binaries), or a build with CUDA and every test (ctest);
#   2. the SASS check: tensor instructions (HGMMA/QGMMA/IGMMA, HMMA/IMMA/DMMA) present in the
#      kernels that must issue them (needs cuobjdump, part of the CUDA toolkit);
#   3. a quick CUDA measurement: JSON report and text table;
#   4. fault injection: a refused launch, an illegal address and a hung kernel each give a clear
#      reason, a written report and a non-zero exit (CHIPGAUGE_CUDA_FAULT, docs/measurement.md).
# Everything lands in OUT_DIR, with a summary in OUT_DIR/summary.txt. About 5 minutes on an H200.
#   scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]     (default architectures: 90a)
# With gpu-carry/ from scripts/gpu-prepare.sh (built on the development machine and carried), it runs
# those binaries and builds nothing; otherwise it builds here with ctest.
set -uo pipefail
out="${1:?usage: scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]}"
archs="${2:-90a}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
failed=0

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1 || true

# The carried binaries load libcublasLt.so.13 from the CUDA toolkit; where the loader does not find
# it, look where toolkits and NVIDIA's Python wheels keep it.
if [ -x gpu-carry/chipgauge ] && ldd gpu-carry/chipgauge 2>/dev/null | grep -q 'libcublasLt.so.13 => not found'; then
  lib=$(find /usr/local /usr/lib /opt $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
          -name libcublasLt.so.13 2>/dev/null | head -1)
  [ -n "$lib" ] && export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && say "libcublasLt from $lib"
fi

# Binaries: those scripts/gpu-prepare.sh built elsewhere and carried in gpu-carry/, when they run
# here; else a build here (which needs the Debian libraries of scripts/install-deps.sh).
if [ -x gpu-carry/chipgauge ] && gpu-carry/chipgauge --version > "$out/carried.txt" 2>&1; then
  bin=gpu-carry/chipgauge
  archs=$(cat gpu-carry/ARCHITECTURES 2>/dev/null || echo "$archs")
  say "carried build: gpu-carry/ for $(cat gpu-carry/ARCHITECTURES 2>/dev/null), from commit $(cat gpu-carry/GIT_SHA 2>/dev/null)"
  SECONDS=0
  # Each GPU test in its own process, as ctest runs them: an injected illegal address poisons the
  # process's CUDA context, which must not reach the next test.
  export CHIPGAUGE_SPECS_DIR="$PWD/specs"
  passed=0
  skipped=0
  total=0
  for t in $(gpu-carry/cuda_gpu_test --gtest_list_tests | awk '/^[^ ]/ {suite=$1} /^  / {print suite $1}'); do
    total=$((total + 1))
    if gpu-carry/cuda_gpu_test --gtest_filter="$t" > "$out/gpu-test.tmp" 2>&1; then
      if grep -q '^\[  SKIPPED \]' "$out/gpu-test.tmp"; then skipped=$((skipped + 1)); else passed=$((passed + 1)); fi
    else
      say "  GPU test FAILED: $t (see $out/gpu-tests.log)"
      failed=1
    fi
    cat "$out/gpu-test.tmp" >> "$out/gpu-tests.log"
  done
  rm -f "$out/gpu-test.tmp"
  say "GPU tests (${SECONDS} s): $passed passed, $skipped skipped, $((total - passed - skipped)) failed, of $total"
else
  [ -x gpu-carry/chipgauge ] && say "carried build does not run here ($(head -1 "$out/carried.txt")): building here"
  SECONDS=0
  {
    cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPGAUGE_CUDA=ON \
      "-DCHIPGAUGE_CUDA_ARCHITECTURES=$archs" -DCHIPGAUGE_BUILD_BENCHMARKS=OFF &&
      cmake --build build-gpu -j"$(nproc)"
  } > "$out/build.log" 2>&1 || { say "build failed: see $out/build.log"; tail -30 "$out/build.log"; exit 1; }
  say "build: ${SECONDS} s"
  bin=./build-gpu/apps/chipgauge
  SECONDS=0
  ctest --test-dir build-gpu --output-on-failure -j4 > "$out/ctest.log" 2>&1 || failed=1
  say "tests (${SECONDS} s): $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
fi

# SASS: every wgmma kernel must contain GMMA instructions, every mma.sync kernel MMA ones.
cuobjdump=$(command -v cuobjdump || echo "${CUDA_HOME:-/usr/local/cuda}/bin/cuobjdump")
if [ -x "$cuobjdump" ]; then
  "$cuobjdump" -sass "$bin" > "$out/sass.txt" 2>&1
  # One line per (kernel, full opcode with its shape and types), with the count.
  awk '/Function :/ {fn=$3} /GMMA|HMMA|IMMA|DMMA|QMMA/ {for (i=1;i<=NF;i++) if ($i ~ /^(HGMMA|QGMMA|IGMMA|HMMA|IMMA|DMMA|QMMA)/) n[fn" "$i]++}
       END {for (k in n) print k, n[k]}' "$out/sass.txt" | sort > "$out/sass-tensor-ops.txt"
  say "SASS tensor instructions per kernel (function, opcode, count):"
  sed 's/^/  /' "$out/sass-tensor-ops.txt" | tee -a "$summary"
  if [[ "$archs" == *90a* ]]; then
    gmma_kernels=$(grep 'GMMA' "$out/sass-tensor-ops.txt" | awk '{print $1}' | sort -u | wc -l)
    if [ "$gmma_kernels" -lt 5 ]; then
      say "SASS check FAILED: expected GMMA instructions in the 5 wgmma kernels, found them in $gmma_kernels"
      failed=1
    fi
    # shape_of(fp64, 90) says m16n8k16: the FP64 mma kernel must issue DMMA, and not only the
    # Ampere m8n8k4 form (DMMA.884), else the host counts the wrong work.
    dmma=$(grep 'DMMA' "$out/sass-tensor-ops.txt" | awk '{print $2}' | sort -u | tr '\n' ' ')
    if [ -z "$dmma" ] || [ "$dmma" = "DMMA.884 " ]; then
      say "SASS check FAILED: the sm_90a FP64 kernel issues '${dmma:-no DMMA}', not the m16n8k16 shape the host counts"
      failed=1
    fi
  fi
else
  say "SASS check skipped: cuobjdump not found"
fi

SECONDS=0
"$bin" --specs-dir specs measure --backend cuda --quick --out "$out/report.json" > "$out/measure.txt" 2> "$out/measure.err"
measured=$?
say "quick measurement (${SECONDS} s): exit $measured"
tee -a "$summary" < "$out/measure.txt"
if [ "$measured" -ne 0 ]; then
  sed 's/^/  /' "$out/measure.err" | tee -a "$summary"
  failed=1
fi

# Faults: each must end non-zero with the report written and the fault named in it.
for fault in launch illegal hang; do
  SECONDS=0
  CHIPGAUGE_CUDA_FAULT=$fault CHIPGAUGE_CUDA_DEADLINE_S=5 timeout 120 "$bin" --specs-dir specs measure --backend cuda \
    --filter "^(fault_$fault|fma_fp32)\$" --out "$out/fault-$fault.json" > "$out/fault-$fault.txt" 2> "$out/fault-$fault.err"
  rc=$?
  say "fault $fault (${SECONDS} s): exit $rc; report $( [ -s "$out/fault-$fault.json" ] && echo written || echo MISSING)"
  sed 's/^/    /' "$out/fault-$fault.err" | tee -a "$summary"
  grep -E '"(name|status|reason)"' "$out/fault-$fault.json" 2>/dev/null | sed 's/^ */    /' | tee -a "$summary"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ ! -s "$out/fault-$fault.json" ]; then
    say "  fault $fault: FAILED (expected a non-zero exit other than the timeout, and a report)"
    failed=1
  fi
done

say "gpu-check: $([ "$failed" -eq 0 ] && echo passed || echo FAILED); results in $out"
exit "$failed"
