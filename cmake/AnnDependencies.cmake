# ann's dependencies, all from Debian packages (scripts/bootstrap.sh installs them).
# OpenBLAS is asked for by name: its threading is what set_num_threads controls.
find_package(xtensor REQUIRED)
find_package(xtensor-blas REQUIRED)
if(NOT DEFINED BLA_VENDOR)
  set(BLA_VENDOR OpenBLAS)
endif()
find_package(BLAS REQUIRED)
# data/ (zlib for .tar.gz) and train/ (JSON results).
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
