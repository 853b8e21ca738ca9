# ann::viz - figures as PNG (include/ann/viz/). Header-only like ann itself; it adds
# stb (stb_image_write, stb_truetype), nlohmann_json (homework_figures reads result files) and
# a DejaVu Sans header generated at configure time (cmake/AnnEmbedFont.cmake). Without a font
# file at configure time, figures look for one at run time (ANN_FONT or the system's DejaVu).
find_path(ANN_STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb)
find_package(nlohmann_json 3 QUIET)
set(ANN_FONT_FILE "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" CACHE FILEPATH
    "TrueType font embedded into ann/viz (empty or missing: none embedded, found at run time)")

if(ANN_STB_INCLUDE_DIR AND nlohmann_json_FOUND)
  add_library(ann_viz INTERFACE)
  add_library(ann::viz ALIAS ann_viz)
  set_target_properties(ann_viz PROPERTIES EXPORT_NAME viz)
  target_link_libraries(ann_viz INTERFACE ann nlohmann_json::nlohmann_json)
  target_include_directories(ann_viz SYSTEM INTERFACE $<BUILD_INTERFACE:${ANN_STB_INCLUDE_DIR}>
                                                      $<INSTALL_INTERFACE:${ANN_STB_INCLUDE_DIR}>)
  if(ANN_FONT_FILE AND EXISTS "${ANN_FONT_FILE}")
    include(AnnEmbedFont)
    target_include_directories(ann_viz INTERFACE $<BUILD_INTERFACE:${ANN_FONT_HEADER_DIR}>)
    include(GNUInstallDirs)
    install(FILES "${ANN_FONT_HEADER_DIR}/ann/viz/embedded_font_data.hpp"
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ann/viz)
  endif()
  install(TARGETS ann_viz EXPORT annTargets)
  set(ANN_HAVE_VIZ ON)
else()
  message(STATUS "ann: ann::viz disabled (needs stb from libstb-dev and nlohmann_json from nlohmann-json3-dev)")
  set(ANN_HAVE_VIZ OFF)
endif()
