# Dependency lookups: every library comes from a Debian 12 package, installed
# by scripts/setup (see README).  Each one becomes an imported target.
find_package(PkgConfig REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)

pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)      # libyaml-dev
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)    # libsqlite3-dev

# libcsv-dev ships no pkg-config file.
find_path(CSV_INCLUDE_DIR csv.h REQUIRED)
find_library(CSV_LIBRARY csv REQUIRED)
add_library(aml::csv UNKNOWN IMPORTED)
set_target_properties(aml::csv PROPERTIES IMPORTED_LOCATION ${CSV_LIBRARY}
                                          INTERFACE_INCLUDE_DIRECTORIES ${CSV_INCLUDE_DIR})

# libopenblas-dev: one library with BLAS (cblas.h) and LAPACK.
find_path(OPENBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-pthread openblas REQUIRED)
find_library(OPENBLAS_LIBRARY openblas REQUIRED)
add_library(aml::openblas UNKNOWN IMPORTED)
set_target_properties(aml::openblas PROPERTIES IMPORTED_LOCATION ${OPENBLAS_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${OPENBLAS_INCLUDE_DIR})

find_library(MATH_LIBRARY m REQUIRED)

if(AML_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)    # libcmocka-dev
endif()
