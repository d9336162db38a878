# A bad invocation of lashup-sim must print its usage on stderr and exit 2,
# without running anything.
foreach(arguments "--scenario;no-such-scenario" "--scenario;ping;--nodes;ten" "--scenario;ping;--bogus;1"
                  "--scenario;ping;--param;no_such_param=1" "--nodes;10")
  execute_process(COMMAND ${LASHUP_SIM} ${arguments}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  if(NOT result EQUAL 2)
    message(FATAL_ERROR "lashup-sim ${arguments}: exit ${result}, expected 2\n${output}${errors}")
  endif()
  if(NOT errors MATCHES "usage: lashup-sim" OR NOT output STREQUAL "")
    message(FATAL_ERROR "lashup-sim ${arguments}: expected usage on stderr only\nstdout: ${output}\nstderr: ${errors}")
  endif()
endforeach()
