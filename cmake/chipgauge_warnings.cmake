# chipgauge::warnings: the project's warning set, attached to every target as a PRIVATE link.
add_library(chipgauge_warnings INTERFACE)
add_library(chipgauge::warnings ALIAS chipgauge_warnings)
target_compile_options(chipgauge_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${CHIPGAUGE_WERROR}>>:-Werror>
  # GCC 12 at -O3 reports -Wrestrict inside std::string's own operator+ (GCC bug 105329), a false
  # positive in library code: silenced for GCC only.
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-restrict>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${CHIPGAUGE_WERROR}>>:-Werror=all-warnings>)
