# Registers the short fuzz runs (label "fuzz") in whichever tree includes this file: the fuzz tree itself, and the
# normal (g++) tree, where scripts/test runs every test. In the g++ tree the fuzzers live in the sibling clang tree
# build/fuzz; a fixture test builds it first (a no-op when scripts/test already did, with progress on the terminal).
#   fuzzer_dir: directory holding the fuzz_<name> executables; fixture: "" or the name of a fixture that builds them.
set(CG_FUZZ_SECONDS 15 CACHE STRING "Seconds of each fuzz target's short run in ctest (label fuzz)")
set(CG_FUZZ_NAMES watch_stream projection prometheus alertmanager kubeconfig config http_request)

function(cg_add_fuzz_tests fuzzer_dir fixture)
  foreach(name ${CG_FUZZ_NAMES})
    add_test(NAME fuzz_${name} COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzz.sh ${fuzzer_dir}/fuzz_${name}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name} ${CMAKE_BINARY_DIR}/fuzz-work/${name} ${CG_FUZZ_SECONDS})
    # Alone: a fuzzer keeps a core busy, and the end-to-end tests beside it measure time.
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz RUN_SERIAL TRUE TIMEOUT 300)
    if(fixture)
      set_tests_properties(fuzz_${name} PROPERTIES FIXTURES_REQUIRED ${fixture})
    endif()
  endforeach()
endfunction()

