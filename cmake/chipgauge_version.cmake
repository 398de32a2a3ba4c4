# Records the git revision at configure time so every result file can carry it.
find_package(Git QUIET)
set(CHIPGAUGE_GIT_SHA "unknown")
if(GIT_FOUND)
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE chipgauge_git_out
    RESULT_VARIABLE chipgauge_git_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(chipgauge_git_rc EQUAL 0)
    set(CHIPGAUGE_GIT_SHA "${chipgauge_git_out}")
  endif()
endif()
