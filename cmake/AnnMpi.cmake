# ANN_WITH_MPI = AUTO | ON | OFF. AUTO builds the distributed part (ann/dist/) when MPI's C++
# compile and link settings are found (Debian: libopenmpi-dev); ON makes a missing MPI an error.
# Result: ANN_MPI_ENABLED and, when on, the INTERFACE target ann::dist (ann::ann + MPI). ann::ann
# itself never needs MPI; the installed package exports ann::dist in its own file, loaded only
# where the consumer's machine has MPI too.
set(ANN_WITH_MPI AUTO CACHE STRING "Build ann::dist (data-parallel training over MPI) and its tests (AUTO, ON, OFF)")
set_property(CACHE ANN_WITH_MPI PROPERTY STRINGS AUTO ON OFF)
set(ANN_MPI_ENABLED OFF)

if(NOT ANN_WITH_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(ANN_MPI_ENABLED ON)
  elseif(ANN_WITH_MPI STREQUAL "ON")
    message(FATAL_ERROR "ANN_WITH_MPI=ON but MPI was not found (Debian: libopenmpi-dev openmpi-bin)")
  else()
    message(STATUS "ann: MPI off (not found; scripts/bootstrap.sh installs Open MPI): ann::dist and its tests skipped")
  endif()
endif()

if(ANN_MPI_ENABLED)
  message(STATUS "ann: MPI on (MPI ${MPI_CXX_VERSION}, launcher ${MPIEXEC_EXECUTABLE})")
  add_library(ann_dist INTERFACE)
  add_library(ann::dist ALIAS ann_dist)
  set_target_properties(ann_dist PROPERTIES EXPORT_NAME dist)
  target_link_libraries(ann_dist INTERFACE ann::ann MPI::MPI_CXX)
  install(TARGETS ann_dist EXPORT annDistTargets)
  install(EXPORT annDistTargets NAMESPACE ann:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
  # Tests and the homework run several ranks on one machine: more ranks than cores is fine there
  # (Open MPI refuses it without --oversubscribe), and CI runs as root (refused without the
  # confirmation variables below).
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _ann_mpiexec_version ERROR_QUIET)
  set(ANN_MPIEXEC_FLAGS "" CACHE STRING "Flags of the MPI launcher in tests (Open MPI: --oversubscribe)")
  if(_ann_mpiexec_version MATCHES "Open MPI" AND ANN_MPIEXEC_FLAGS STREQUAL "")
    set(ANN_MPIEXEC_FLAGS "--oversubscribe" CACHE STRING "Flags of the MPI launcher in tests" FORCE)
  endif()
  set(ANN_MPI_TEST_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
  if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=address")
    # Open MPI's own allocations live until exit by design; LeakSanitizer would report them as ours.
    list(APPEND ANN_MPI_TEST_ENV "ASAN_OPTIONS=detect_leaks=0")
  endif()
endif()
