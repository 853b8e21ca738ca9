# stb (stb_image_write, stb_truetype; Debian's libstb-dev puts them in <prefix>/include/stb) as the
# imported target ann::stb. The same file finds it when ann is built and when an installed ann is
# used (annConfig.cmake includes it), so no folder of the build machine is written into the package.
if(NOT TARGET ann::stb)
  find_path(ANN_STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb DOC "folder holding stb_image_write.h")
  if(ANN_STB_INCLUDE_DIR)
    add_library(ann::stb INTERFACE IMPORTED)
    set_target_properties(ann::stb PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${ANN_STB_INCLUDE_DIR}")
  endif()
endif()
