#pragma once

// One factory per kind of CUDA case, overloaded on the parameters the catalogue captured
// (cuda_plan.hpp): compute.cpp (vector FMA, tensor cores, injected faults), gemm.cpp (cuBLASLt),
// memory.cpp (DRAM, L2, shared memory), links.cpp (host-device and peer copies). Adding a
// benchmark is one parameter struct and catalogue entry in cuda_plan, and one case and factory
// here. Internal to bench/.

#include "../cuda_plan.hpp"
#include "chipgauge/bench/backend.hpp"
#include "timed_case.hpp"

#include <memory>

namespace chipgauge::bench::cuda {

using case_ptr = std::unique_ptr<benchmark_case>;

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::fault& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::vector& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::tensor& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::gemm& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::dram& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::l2_read& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::smem_read& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::p2p& p);
case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::host_copy& p);

}  // namespace chipgauge::bench::cuda
