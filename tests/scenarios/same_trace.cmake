# Runs one scenario twice with the same seed and fails unless the two event traces are
# byte for byte the same. Called by ctest with -DEDGERT=<edgert binary> -DSCENARIO=<file>
# -DSEED=<n> -DOUT=<scratch directory>.
file(MAKE_DIRECTORY "${OUT}")
foreach(run IN ITEMS 1 2)
  execute_process(COMMAND "${EDGERT}" scenario "${SCENARIO}" --seed "${SEED}"
                          --trace "${OUT}/trace_${run}.txt"
                  RESULT_VARIABLE status OUTPUT_QUIET)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "run ${run} of ${SCENARIO} failed with ${status}")
  endif()
endforeach()
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUT}/trace_1.txt" "${OUT}/trace_2.txt"
                RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "the traces of two runs with seed ${SEED} differ: "
                      "${OUT}/trace_1.txt ${OUT}/trace_2.txt")
endif()
file(SIZE "${OUT}/trace_1.txt" trace_size)
message(STATUS "identical traces of ${trace_size} bytes")
