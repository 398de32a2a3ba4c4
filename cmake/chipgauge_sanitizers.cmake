# Sanitizer and fuzzing builds (docs/testing.md), applied to every target of the project:
#   CHIPGAUGE_SANITIZE=address,undefined   -fsanitize=... on every compile and link, any error fatal
#   CHIPGAUGE_FUZZ=ON                      clang only: coverage instrumentation for libFuzzer
#                                          (-fsanitize=fuzzer-no-link) and the tests/fuzz/ targets
set(CHIPGAUGE_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined (empty: none)")
option(CHIPGAUGE_FUZZ "Build the libFuzzer targets of tests/fuzz (clang)" OFF)

if(CHIPGAUGE_SANITIZE)
  add_compile_options(-fsanitize=${CHIPGAUGE_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${CHIPGAUGE_SANITIZE} -fno-sanitize-recover=all)
endif()

if(CHIPGAUGE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CHIPGAUGE_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  if(NOT CHIPGAUGE_BUILD_TESTS)
    message(FATAL_ERROR "CHIPGAUGE_FUZZ needs CHIPGAUGE_BUILD_TESTS (the targets live in tests/fuzz)")
  endif()
  # Coverage feedback from every library the targets call, not only from the targets.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
