# engramConfig.cmake — find_package(engram) for plugins built outside the engram tree.
#
#   find_package(engram 0.1 REQUIRED)
#   engram_add_plugin(mymodel SOURCES mymodel_plugin.c)   # -> engram-model-mymodel.so
#   engram_add_plugin(myset SOURCES myset_source.c KIND data) # -> engram-data-myset.so
#
# Gives the imported target engram::engram (libengram.so.1 and the SDK headers),
# ENGRAM_EXECUTABLE (the `engram` of this SDK), ENGRAM_PLUGIN_DIR (where that
# engram finds installed plugins) and engram_add_plugin().
include("${CMAKE_CURRENT_LIST_DIR}/engramTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/engramPaths.cmake") # ENGRAM_EXECUTABLE, ENGRAM_LIB_DIR, ENGRAM_PLUGIN_DIR

# engram_add_plugin(NAME SOURCES src... [KIND model|data]): a MODULE (CMake target NAME) named
# engram-<kind>-<NAME>.so in the build directory, C11, hidden visibility (only the entry point
# EG_MODEL_DEFINE or EG_DATA_DEFINE defines is exported), linked to libengram with a RUNPATH to it; `cmake --install` puts it in
# <prefix>/lib/engram, where an engram of that prefix finds it.
function(engram_add_plugin name)
  cmake_parse_arguments(EGP "" "KIND" "SOURCES" ${ARGN})
  if(NOT EGP_KIND)
    set(EGP_KIND model)
  endif()
  if(NOT EGP_KIND STREQUAL "model" AND NOT EGP_KIND STREQUAL "data")
    message(FATAL_ERROR "engram_add_plugin(${name}): KIND ${EGP_KIND}: expected model or data")
  endif()
  if(NOT EGP_SOURCES)
    message(FATAL_ERROR "engram_add_plugin(${name}): no SOURCES")
  endif()
  add_library(${name} MODULE ${EGP_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME "engram-${EGP_KIND}-${name}"
                        LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}" C_STANDARD 11 C_STANDARD_REQUIRED ON
                        C_VISIBILITY_PRESET hidden POSITION_INDEPENDENT_CODE ON
                        BUILD_RPATH "${ENGRAM_LIB_DIR}" INSTALL_RPATH "${ENGRAM_LIB_DIR}")
  target_link_libraries(${name} PRIVATE engram::engram m)
  install(TARGETS ${name} LIBRARY DESTINATION lib/engram)
endfunction()
