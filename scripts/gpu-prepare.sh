#!/usr/bin/env bash
# Builds, on this machine, the CUDA binaries that scripts/gpu-check.sh runs on a GPU machine whose
# image lacks the Debian libraries chipgauge builds against (fmt, CLI11, nlohmann-json, GoogleTest):
# CHIPGAUGE_PORTABLE uses fmt header-only (GoogleTest and the CUDA runtime are static), so the
# binaries need only glibc >= 2.34, the libstdc++ of GCC 12 or later (Ubuntu 22.04 and later) and the
# CUDA toolkit's libcublasLt there. The versions they need are printed below. The result goes to gpu-carry/ (git-ignored), to be
# carried with the working tree:
#   bash scripts/gpu-prepare.sh [CUDA_ARCHITECTURES]        (default 90a)
#   then, on the GPU machine: bash scripts/gpu-check.sh OUT_DIR   (it uses gpu-carry/ when present)
set -euo pipefail
archs="${1:-90a}"
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu-carry -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPGAUGE_CUDA=ON -DCHIPGAUGE_PORTABLE=ON \
  -DCHIPGAUGE_POSTGRESQL=OFF \
  "-DCHIPGAUGE_CUDA_ARCHITECTURES=$archs" -DCHIPGAUGE_BUILD_BENCHMARKS=OFF -DCHIPGAUGE_BUILD_TESTS=ON > /dev/null
cmake --build build-gpu-carry -j"$(nproc)" --target chipgauge cuda_gpu_test
rm -rf gpu-carry
mkdir -p gpu-carry
for b in apps/chipgauge tests/cuda_gpu_test; do
  cp "build-gpu-carry/$b" gpu-carry/
  strip gpu-carry/"$(basename "$b")"
done
echo "$archs" > gpu-carry/ARCHITECTURES
git describe --always --dirty --abbrev=12 > gpu-carry/GIT_SHA 2>/dev/null || true
echo "gpu-carry/ (carry it: run(..., carry=[\"gpu-carry\"])):"
ls -l gpu-carry
du -sh gpu-carry
echo "shared libraries the binaries need:"
ldd gpu-carry/chipgauge | sed 's/^/  /'
for b in gpu-carry/chipgauge gpu-carry/cuda_gpu_test; do
  echo "  $b needs $(objdump -T "$b" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)," \
    "$(objdump -T "$b" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)"
done
