# ANN_WITH_CUDA = AUTO | ON | OFF. AUTO turns the CUDA backend on when a CUDA compiler, the
# toolkit (cuBLAS) and cuDNN are all found; ON makes a missing piece an error.
# Result: ANN_CUDA_ENABLED and, when on, the INTERFACE target ann::cuda (ann::ann + cuDNN +
# cuBLAS + the runtime). Programs that use it are compiled by nvcc; ann::ann alone never
# needs the toolkit.
set(ANN_WITH_CUDA AUTO CACHE STRING "Build the CUDA backend's tests and benchmarks (AUTO, ON, OFF)")
set_property(CACHE ANN_WITH_CUDA PROPERTY STRINGS AUTO ON OFF)
option(ANN_CUDA_STATIC_RUNTIME "Link the CUDA runtime statically (CUDA::cudart_static): programs that need no libcudart.so" OFF)
set(ANN_CUDA_ENABLED OFF)

if(NOT ANN_WITH_CUDA STREQUAL "OFF")
  # nvcc is often not on PATH; /usr/local/cuda is where the toolkit installs it.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  set(_ann_cuda_missing "")
  if(CMAKE_CUDA_COMPILER)
    # sm_90 machine code for the H100/H200 plus sm_90 PTX that newer GPUs can JIT.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    # A toolkit without cuBLAS (an nvcc-only install): take the pip wheel's, given as
    # CUBLAS_LIBRARY + CUBLAS_INCLUDE_DIR (scripts/gpu-check.sh finds them).
    if(CUDAToolkit_FOUND AND NOT TARGET CUDA::cublas AND CUBLAS_LIBRARY AND CUBLAS_INCLUDE_DIR)
      add_library(CUDA::cublas UNKNOWN IMPORTED)
      set_target_properties(CUDA::cublas PROPERTIES IMPORTED_LOCATION "${CUBLAS_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CUBLAS_INCLUDE_DIR}")
    endif()
    if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cublas)
      set(_ann_cuda_missing "the CUDA toolkit's cuBLAS")
    else()
      find_package(CUDNN 9)
      if(NOT CUDNN_FOUND)
        set(_ann_cuda_missing "cuDNN 9 (set CUDNN_ROOT)")
      endif()
    endif()
  else()
    set(_ann_cuda_missing "a CUDA compiler (nvcc; set CMAKE_CUDA_COMPILER)")
  endif()

  if(_ann_cuda_missing STREQUAL "")
    set(ANN_CUDA_ENABLED ON)
  elseif(ANN_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ANN_WITH_CUDA=ON but ${_ann_cuda_missing} was not found")
  else()
    message(STATUS "ann: CUDA backend off (${_ann_cuda_missing} not found)")
  endif()
endif()

if(ANN_CUDA_ENABLED)
  message(STATUS "ann: CUDA backend on (CUDA ${CUDAToolkit_VERSION}, cuDNN ${CUDNN_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  add_library(ann_cuda INTERFACE)
  add_library(ann::cuda ALIAS ann_cuda)
  if(ANN_CUDA_STATIC_RUNTIME)
    target_link_libraries(ann_cuda INTERFACE ann::ann CUDNN::cudnn CUDA::cublas CUDA::cudart_static)
  else()
    target_link_libraries(ann_cuda INTERFACE ann::ann CUDNN::cudnn CUDA::cublas CUDA::cudart)
  endif()
  target_compile_features(ann_cuda INTERFACE cuda_std_17)
endif()
