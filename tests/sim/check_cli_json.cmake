# Runs `lashup-sim --scenario ping --nodes 1000 --duration-s 10` and checks
# that it exits 0 and prints exactly one line that parses as a JSON object
# with the ping figures (string(JSON) is CMake's own parser).
execute_process(
  COMMAND ${LASHUP_SIM} --scenario ping --nodes 1000 --duration-s 10 --seed 7
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "lashup-sim exited with ${result}\nstdout: ${output}\nstderr: ${errors}")
endif()
string(STRIP "${output}" line)
string(FIND "${line}" "\n" newline)
if(NOT newline EQUAL -1)
  message(FATAL_ERROR "expected one line, got:\n${output}")
endif()
foreach(field scenario nodes seed sim_seconds events wall_ms events_per_s pings_sent pongs_received rtt_mean_ms ok)
  string(JSON value ERROR_VARIABLE json_error GET "${line}" ${field})
  if(json_error)
    message(FATAL_ERROR "not a JSON object with '${field}': ${json_error}\n${line}")
  endif()
endforeach()
string(JSON scenario GET "${line}" scenario)
string(JSON nodes GET "${line}" nodes)
string(JSON ok GET "${line}" ok)
if(NOT scenario STREQUAL "ping" OR NOT nodes EQUAL 1000 OR NOT ok STREQUAL "ON")
  message(FATAL_ERROR "unexpected figures: ${line}")
endif()
message(STATUS "${line}")
