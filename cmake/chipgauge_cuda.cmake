# Optional CUDA. With CHIPGAUGE_CUDA=AUTO the kernels build when a CUDA compiler is found;
# without one every other target still builds and the CUDA backend reports itself unavailable.
set(CHIPGAUGE_HAVE_CUDA OFF)
if(NOT CHIPGAUGE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    # At the top level, so that CUDA::cudart and CUDA::cublasLt are visible to kernels/ and bench/.
    find_package(CUDAToolkit REQUIRED)
    set(CHIPGAUGE_HAVE_CUDA ON)
  elseif(CHIPGAUGE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CHIPGAUGE_CUDA=ON but no CUDA compiler was found (install the CUDA toolkit or set CMAKE_CUDA_COMPILER)")
  endif()
endif()
# The target architectures, as CMake writes them; 90a/100a enable wgmma/tcgen05.
set(CHIPGAUGE_CUDA_ARCHITECTURES "80;86;89;90a;100a;120" CACHE STRING "CUDA architectures for kernels/")
message(STATUS "chipgauge: CUDA kernels ${CHIPGAUGE_HAVE_CUDA} (CHIPGAUGE_CUDA=${CHIPGAUGE_CUDA})")
