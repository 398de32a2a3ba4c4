// Link cases: pinned host-device copies (PCIe or NVLink-C2C) and peer-to-peer copies between
// GPUs, each compared byte for byte.
#include "cases.hpp"

#include "chipgauge/core/error.hpp"

#include <sched.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace chipgauge::bench::cuda {

namespace {

class copy_case final : public cuda_case {
 public:
  copy_case(const case_context& c, benchmark_info info, cuda_params::copy_kind kind,
            std::size_t bytes, std::optional<fixed_peak> peak)
      : cuda_case(c, std::move(info), std::nullopt, std::move(peak)),
        kind_(kind),
        bytes_(bytes),
        near_(c.n, c.g.pci),
        host_in_(bytes),
        host_out_(bytes),
        dev_in_(bytes),
        dev_out_(bytes) {
    near_.restore();  // the pinned buffers now live on the GPU's NUMA node
    auto* h = host_in_.as<unsigned char>();
    for (std::size_t i = 0; i < bytes_; ++i)
      h[i] = static_cast<unsigned char>((i * 2654435761U) >> 13);
    CHIPGAUGE_CUDA(cudaMemcpy(dev_out_.ptr, host_in_.ptr, bytes_, cudaMemcpyHostToDevice));
    CHIPGAUGE_CUDA(
        cudaMemset(dev_in_.ptr, 0, bytes_));  // not the pattern: a copy that never ran fails
    std::memset(host_out_.ptr, 0, bytes_);
    CHIPGAUGE_CUDA(cudaDeviceSynchronize());
  }

  verification verify() override {
    // H2D landed in dev_in_, D2H landed in host_out_: both must equal the pattern.
    std::vector<unsigned char> back(bytes_);
    std::size_t bad = 0;
    if (kind_ != cuda_params::copy_kind::d2h) {
      CHIPGAUGE_CUDA(cudaMemcpy(back.data(), dev_in_.ptr, bytes_, cudaMemcpyDeviceToHost));
      bad += std::memcmp(back.data(), host_in_.ptr, bytes_) != 0;
    }
    if (kind_ != cuda_params::copy_kind::h2d)
      bad += std::memcmp(host_out_.ptr, host_in_.ptr, bytes_) != 0;
    verification v;
    v.passed = bad == 0;
    v.detail = fmt::format(
        "{} bytes per direction compared byte for byte after the copies; {} direction(s) differ",
        bytes_, bad);
    return v;
  }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) {
      // The reverse direction runs on a second stream forked before the forward copy, so the two
      // overlap; it joins back before the stop event.
      if (kind_ == cuda_params::copy_kind::bidirectional) {
        CHIPGAUGE_CUDA(cudaEventRecord(fork_.get(), stream()));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(second_.get(), fork_.get(), 0));
      }
      if (kind_ != cuda_params::copy_kind::d2h)
        CHIPGAUGE_CUDA(
            cudaMemcpyAsync(dev_in_.ptr, host_in_.ptr, bytes_, cudaMemcpyHostToDevice, stream()));
      if (kind_ == cuda_params::copy_kind::bidirectional) {
        CHIPGAUGE_CUDA(cudaMemcpyAsync(host_out_.ptr, dev_out_.ptr, bytes_, cudaMemcpyDeviceToHost,
                                       second_.get()));
        CHIPGAUGE_CUDA(cudaEventRecord(join_.get(), second_.get()));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(stream(), join_.get(), 0));
      } else if (kind_ == cuda_params::copy_kind::d2h) {
        CHIPGAUGE_CUDA(
            cudaMemcpyAsync(host_out_.ptr, dev_out_.ptr, bytes_, cudaMemcpyDeviceToHost, stream()));
      }
    }
    return static_cast<double>(reps) * static_cast<double>(bytes_) *
           (kind_ == cuda_params::copy_kind::bidirectional ? 2 : 1);
  }

  // Binds the constructing thread near the GPU while the pinned buffers are allocated (so their
  // pages land on its NUMA node on multi-socket hosts), then restores the thread's CPU set.
  struct near_device {
    cpu_set_t saved{};
    bool bound = false;
    near_device(const nvml& n, const std::string& pci) {
      if (sched_getaffinity(0, sizeof saved, &saved) == 0) bound = n.bind_thread_near(pci);
    }
    void restore() noexcept {
      if (bound) (void)sched_setaffinity(0, sizeof saved, &saved);
      bound = false;
    }
    ~near_device() { restore(); }
    near_device(const near_device&) = delete;
    near_device& operator=(const near_device&) = delete;
  };

  cuda_params::copy_kind kind_;
  std::size_t bytes_;
  near_device near_;
  pinned_buffer host_in_;
  pinned_buffer host_out_;
  device_buffer dev_in_;
  device_buffer dev_out_;
  stream_owner second_ = make_stream();
  event_owner fork_ = make_event();
  event_owner join_ = make_event();
};

// Peer-to-peer copies between two GPUs (NVLink or PCIe), one way or both ways at once.
class p2p_case final : public cuda_case {
 public:
  p2p_case(const case_context& c, const gpu& to, benchmark_info info, bool both, std::size_t bytes)
      : cuda_case(c, std::move(info), std::nullopt),
        to_(to),
        both_(both),
        bytes_(bytes),
        src_(bytes),
        back_(bytes) {
    CHIPGAUGE_CUDA(cudaSetDevice(to_.index));
    dst_buf_ = std::make_unique<device_buffer>(bytes_);  // on the peer (owned: freed on any exit)
    dst_src_buf_ = std::make_unique<device_buffer>(bytes_);
    dst_ = dst_buf_->ptr;
    dst_src_ = dst_src_buf_->ptr;
    enable_peer(g_.index);
    CHIPGAUGE_CUDA(cudaMemset(dst_src_, 0x5A, bytes_));
    CHIPGAUGE_CUDA(cudaMemset(dst_, 0, bytes_));  // neither pattern: a copy that never ran fails
    CHIPGAUGE_CUDA(
        cudaDeviceSynchronize());  // the peer's memsets, before any case stream uses them
    CHIPGAUGE_CUDA(cudaSetDevice(g_.index));
    enable_peer(to_.index);
    CHIPGAUGE_CUDA(cudaMemset(src_.ptr, 0xA5, bytes_));
    CHIPGAUGE_CUDA(cudaMemset(back_.ptr, 0, bytes_));
    CHIPGAUGE_CUDA(cudaDeviceSynchronize());
  }
  // Peer access from the current device to `peer`; "already enabled" is fine, anything else is
  // an error (a silent fallback would time staged copies as peer-to-peer).
  static void enable_peer(int peer) {
    const cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
      (void)cudaGetLastError();
      return;
    }
    CHIPGAUGE_CUDA(e);
  }

  verification verify() override {
    std::vector<unsigned char> h(bytes_);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), dst_, bytes_, cudaMemcpyDeviceToHost));
    std::size_t bad = 0;
    for (auto c : h) bad += c != 0xA5;
    if (both_) {
      CHIPGAUGE_CUDA(cudaMemcpy(h.data(), back_.ptr, bytes_, cudaMemcpyDeviceToHost));
      for (auto c : h) bad += c != 0x5A;
    }
    verification v;
    v.passed = bad == 0;
    v.detail =
        fmt::format("{} bytes per direction compared after the copies; {} differ", bytes_, bad);
    return v;
  }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) {
      if (both_) {
        CHIPGAUGE_CUDA(cudaEventRecord(fork_.get(), stream()));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(second_.get(), fork_.get(), 0));
      }
      CHIPGAUGE_CUDA(cudaMemcpyPeerAsync(dst_, to_.index, src_.ptr, g_.index, bytes_, stream()));
      if (both_) {
        CHIPGAUGE_CUDA(
            cudaMemcpyPeerAsync(back_.ptr, g_.index, dst_src_, to_.index, bytes_, second_.get()));
        CHIPGAUGE_CUDA(cudaEventRecord(join_.get(), second_.get()));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(stream(), join_.get(), 0));
      }
    }
    return static_cast<double>(reps) * static_cast<double>(bytes_) * (both_ ? 2 : 1);
  }

  const gpu& to_;
  bool both_;
  std::size_t bytes_;
  device_buffer src_;
  device_buffer back_;
  std::unique_ptr<device_buffer> dst_buf_;
  std::unique_ptr<device_buffer> dst_src_buf_;
  void* dst_ = nullptr;
  void* dst_src_ = nullptr;
  stream_owner second_ = make_stream();
  event_owner fork_ = make_event();
  event_owner join_ = make_event();
};
}  // namespace

case_ptr make_case(const case_context& c, const benchmark_info& b,
                   const cuda_params::host_copy& p) {
  auto peak = pcie_peak(c.g, c.n);
  if (peak && p.kind == cuda_params::copy_kind::bidirectional) {
    peak->rate *= 2;
    peak->basis = "2 directions x " + peak->basis;
  }
  return std::make_unique<copy_case>(c, b, p.kind, p.bytes, std::move(peak));
}

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::p2p& p) {
  for (const auto& other : c.all) {
    if (other.index == p.to) return std::make_unique<p2p_case>(c, other, b, p.both, p.bytes);
  }
  throw usage_error(fmt::format("{}: no CUDA device cuda:{} to copy to", b.name, p.to));
}

}  // namespace chipgauge::bench::cuda
