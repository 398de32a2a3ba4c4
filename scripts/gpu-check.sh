#!/usr/bin/env bash
# The checks that need a GPU, in one run (for a machine with an NVIDIA GPU and the CUDA toolkit):
# build with CUDA for the local architecture list, run every test (GPU tests included), then a
# quick CUDA measurement. Everything lands in OUT_DIR: build and test logs, the JSON report, the
# text table. Should finish in a few minutes on an H200.
#   scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]
set -uo pipefail
out="${1:?usage: scripts/gpu-check.sh OUT_DIR [CUDA_ARCHITECTURES]}"
archs="${2:-90a}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
{
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPGAUGE_CUDA=ON \
    "-DCHIPGAUGE_CUDA_ARCHITECTURES=$archs" -DCHIPGAUGE_BUILD_BENCHMARKS=OFF &&
    cmake --build build-gpu -j"$(nproc)"
} > "$out/build.log" 2>&1 || { echo "build failed: see $out/build.log"; tail -30 "$out/build.log"; exit 1; }
ctest --test-dir build-gpu --output-on-failure -j4 > "$out/ctest.log" 2>&1
tests=$?
tail -5 "$out/ctest.log"
./build-gpu/apps/chipgauge --specs-dir specs measure --backend cuda --quick --out "$out/report.json" \
  > "$out/measure.txt" 2> "$out/measure.err"
measured=$?
cat "$out/measure.txt"
./build-gpu/apps/chipgauge --specs-dir specs measure --backend cuda --quick --format gbench > "$out/gbench.json" 2>/dev/null || true
echo "tests rc=$tests, measure rc=$measured; results in $out"
exit $(( tests != 0 || measured != 0 ))
