# ANN_WITH_ONNX = AUTO | ON | OFF. AUTO builds ONNX export and import (ann/onnx/) when ONNX's
# protobuf classes and protobuf are found (Debian: libonnx-dev, libprotobuf-dev); ON makes a missing
# one an error. Result: ANN_ONNX_ENABLED and, when on, the INTERFACE target ann::onnx (ann::ann +
# onnx_proto + protobuf). ann::ann itself never needs them.
set(ANN_WITH_ONNX AUTO CACHE STRING "Build ann::onnx (ONNX export and import) and its tests (AUTO, ON, OFF)")
set_property(CACHE ANN_WITH_ONNX PROPERTY STRINGS AUTO ON OFF)
set(ANN_ONNX_ENABLED OFF)

if(NOT ANN_WITH_ONNX STREQUAL "OFF")
  find_package(Protobuf QUIET)
  find_package(ONNX QUIET)
  if(Protobuf_FOUND AND ONNX_FOUND AND TARGET onnx_proto)
    set(ANN_ONNX_ENABLED ON)
  elseif(ANN_WITH_ONNX STREQUAL "ON")
    message(FATAL_ERROR "ANN_WITH_ONNX=ON but ONNX or protobuf was not found (Debian: libonnx-dev libprotobuf-dev)")
  else()
    message(STATUS "ann: ONNX off (libonnx-dev or libprotobuf-dev not found; scripts/bootstrap.sh installs them): ann::onnx and its tests skipped")
  endif()
endif()

if(ANN_ONNX_ENABLED)
  message(STATUS "ann: ONNX on (ONNX ${ONNX_VERSION}, protobuf ${Protobuf_VERSION})")
  add_library(ann_onnx INTERFACE)
  add_library(ann::onnx ALIAS ann_onnx)
  set_target_properties(ann_onnx PROPERTIES EXPORT_NAME onnx)
  target_link_libraries(ann_onnx INTERFACE ann::ann onnx_proto protobuf::libprotobuf)
  install(TARGETS ann_onnx EXPORT annOnnxTargets)
  install(EXPORT annOnnxTargets NAMESPACE ann:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
endif()
