# Locates the C++ Actor Framework as Debian bookworm packages it (libcaf-dev 0.17.6).
#
# That package installs headers and shared libraries only: no CMake package
# configuration and no pkg-config file, so this module looks the pieces up itself.
# It defines the imported targets CAF::core and CAF::io, the same names newer CAF
# releases export from their own configuration, so a later upgrade only needs
# find_package(CAF CONFIG) to take over.
#
# Result variables: CAF_FOUND, CAF_VERSION, CAF_INCLUDE_DIR, CAF_CORE_LIBRARY,
# CAF_IO_LIBRARY.

find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp)
find_library(CAF_CORE_LIBRARY NAMES caf_core)
find_library(CAF_IO_LIBRARY NAMES caf_io)

# caf/config.hpp carries the version as one integer: major*10000 + minor*100 + patch.
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _edgert_caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+$" _edgert_caf_version_number "${_edgert_caf_version_line}")
  if(_edgert_caf_version_number)
    math(EXPR _major "${_edgert_caf_version_number} / 10000")
    math(EXPR _minor "(${_edgert_caf_version_number} / 100) % 100")
    math(EXPR _patch "${_edgert_caf_version_number} % 100")
    set(CAF_VERSION "${_major}.${_minor}.${_patch}")
  endif()
endif()

foreach(_component core io)
  string(TOUPPER "${_component}" _upper)
  if(CAF_${_upper}_LIBRARY)
    set(CAF_${_component}_FOUND TRUE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)

if(CAF_FOUND)
  find_package(Threads REQUIRED)
  if(NOT TARGET CAF::core)
    add_library(CAF::core SHARED IMPORTED)
    set_target_properties(CAF::core PROPERTIES
      IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
  if(CAF_IO_LIBRARY AND NOT TARGET CAF::io)
    add_library(CAF::io SHARED IMPORTED)
    set_target_properties(CAF::io PROPERTIES
      IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
      INTERFACE_LINK_LIBRARIES CAF::core)
  endif()
endif()

mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY)
