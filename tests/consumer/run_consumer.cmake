# ctest driver (cmake -P): install ann's build tree to a fresh prefix, then configure, build and
# run tests/consumer against that prefix only. Any step failing fails the test.
#   -DANN_BUILD_DIR=  the ann build tree to install      -DCONSUMER_SOURCE= tests/consumer
#   -DWORK_DIR=       scratch folder (wiped first)        -DCXX_COMPILER= -DGENERATOR=
foreach(var ANN_BUILD_DIR CONSUMER_SOURCE WORK_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")

function(step what)
  message(STATUS "consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: '${what}' failed (${rc})")
  endif()
endfunction()

step("install ann to ${prefix}" "${CMAKE_COMMAND}" --install "${ANN_BUILD_DIR}" --prefix "${prefix}")
# Only the fresh prefix may provide ann: no package registries, no environment prefixes.
step("configure" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${build}" -G "${GENERATOR}"
     "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${prefix}"
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
     -DCMAKE_FIND_USE_CMAKE_ENVIRONMENT_PATH=OFF)

# A stray ann elsewhere (e.g. /usr/local) must not make a broken export look fine.
file(STRINGS "${build}/CMakeCache.txt" ann_dir_line REGEX "^ann_DIR:")
string(REGEX REPLACE "^ann_DIR:[A-Z]*=" "" ann_dir "${ann_dir_line}")
file(REAL_PATH "${prefix}" real_prefix)
file(REAL_PATH "${ann_dir}" real_ann_dir)
string(FIND "${real_ann_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "consumer: found ann in '${ann_dir}', not under the install prefix '${prefix}'")
endif()

# The installed package finds its optional dependencies where it is used: no include folder of
# the installing machine (e.g. stb's) may be written into its exported targets.
file(GLOB exported "${prefix}/*/cmake/ann/ann*Targets.cmake")
foreach(f ${exported})
  file(STRINGS "${f}" baked REGEX "INTERFACE_INCLUDE_DIRECTORIES.*\"/usr")
  if(baked)
    message(FATAL_ERROR "consumer: ${f} names a folder of the installing machine: ${baked}")
  endif()
endforeach()

step("build" "${CMAKE_COMMAND}" --build "${build}")
step("run" "${build}/app")
step("run the optional targets" "${build}/app_optional")
