# ann::viz - figures as PNG (include/ann/viz/). Header-only like ann itself; it adds
# stb (stb_image_write, stb_truetype), nlohmann_json (homework_figures reads result files) and
# a DejaVu Sans header generated at configure time (cmake/AnnEmbedFont.cmake). Without a font
# file at configure time, figures look for one at run time (ANN_FONT or the system's DejaVu).
include(AnnFindStb)
find_package(nlohmann_json 3 QUIET)
set(ANN_FONT_FILE "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" CACHE FILEPATH
    "TrueType font embedded into ann/viz (empty or missing: none embedded, found at run time)")

if(TARGET ann::stb AND nlohmann_json_FOUND)
  add_library(ann_viz INTERFACE)
  add_library(ann::viz ALIAS ann_viz)
  set_target_properties(ann_viz PROPERTIES EXPORT_NAME viz)
  target_link_libraries(ann_viz INTERFACE ann nlohmann_json::nlohmann_json ann::stb)
  if(ANN_FONT_FILE AND EXISTS "${ANN_FONT_FILE}")
    include(AnnEmbedFont)
    target_include_directories(ann_viz INTERFACE $<BUILD_INTERFACE:${ANN_FONT_HEADER_DIR}>)
    include(GNUInstallDirs)
    install(FILES "${ANN_FONT_HEADER_DIR}/ann/viz/embedded_font_data.hpp"
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ann/viz)
  endif()
  # Its own export set, loaded by annConfig.cmake only where stb is found (cmake/AnnFindStb.cmake).
  include(GNUInstallDirs)
  install(TARGETS ann_viz EXPORT annVizTargets)
  install(EXPORT annVizTargets NAMESPACE ann:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/AnnFindStb.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
  set(ANN_HAVE_VIZ ON)
else()
  message(STATUS "ann: ann::viz disabled (needs stb from libstb-dev and nlohmann_json from nlohmann-json3-dev)")
  set(ANN_HAVE_VIZ OFF)
endif()
