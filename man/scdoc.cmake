# scdoc reads its page on stdin and writes troff on stdout, which add_custom_command cannot
# redirect portably: cmake -DSCDOC=scdoc -DINPUT=page.scd -DOUTPUT=page.N -P man/scdoc.cmake
execute_process(COMMAND ${SCDOC} INPUT_FILE ${INPUT} OUTPUT_FILE ${OUTPUT}.tmp
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "scdoc failed on ${INPUT}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
