# chipgauge::warnings: the project's warning set, attached to every target as a PRIVATE link.
add_library(chipgauge_warnings INTERFACE)
add_library(chipgauge::warnings ALIAS chipgauge_warnings)
target_compile_options(chipgauge_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${CHIPGAUGE_WERROR}>>:-Werror>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${CHIPGAUGE_WERROR}>>:-Werror=all-warnings>)
