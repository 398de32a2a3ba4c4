#pragma once

// One move-only owner for the handles of C APIs: CUDA streams and events, cuBLASLt objects, a
// dlopen()ed library.

#include <utility>

namespace chipgauge {

/// Owns one handle of a C API (`T`: a pointer type such as cudaStream_t, cublasLtHandle_t or the
/// void* of dlopen) and destroys it with `Destroy` once, whatever that returns. Move-only; null
/// owns nothing.
template <typename T, auto Destroy>
class unique_handle {
 public:
  unique_handle() = default;
  explicit unique_handle(T h) noexcept : h_(h) {}
  ~unique_handle() { reset(); }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  unique_handle(unique_handle&& o) noexcept : h_(std::exchange(o.h_, T{})) {}
  unique_handle& operator=(unique_handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, T{});
    }
    return *this;
  }
  [[nodiscard]] T get() const noexcept { return h_; }
  [[nodiscard]] explicit operator bool() const noexcept { return h_ != T{}; }
  /// Where a creating call writes the new handle; whatever was owned is destroyed first.
  [[nodiscard]] T* out() noexcept {
    reset();
    return &h_;
  }
  void reset() noexcept {
    if (h_) (void)Destroy(h_);
    h_ = T{};
  }

 private:
  T h_{};
};

}  // namespace chipgauge
