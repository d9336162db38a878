# Warnings and sanitizers, applied to every target of the project through the
# interface target lashup_flags.
add_library(lashup_flags INTERFACE)
target_compile_options(lashup_flags INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Wpointer-arith
  $<$<COMPILE_LANGUAGE:CXX>:-Woverloaded-virtual>
  $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
if(LASHUP_WERROR)
  target_compile_options(lashup_flags INTERFACE -Werror)
endif()

if(LASHUP_SANITIZE STREQUAL "address")
  set(_lashup_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(LASHUP_SANITIZE STREQUAL "thread")
  set(_lashup_sanitize_flags -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT LASHUP_SANITIZE STREQUAL "")
  message(FATAL_ERROR "LASHUP_SANITIZE must be '', 'address' or 'thread', not '${LASHUP_SANITIZE}'")
endif()
if(_lashup_sanitize_flags)
  add_compile_options(${_lashup_sanitize_flags})
  add_link_options(${_lashup_sanitize_flags})
endif()

set(LASHUP_FUZZING OFF)
if(LASHUP_BUILD_FUZZERS AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(LASHUP_FUZZING ON)
endif()
