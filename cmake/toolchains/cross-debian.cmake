# Shared part of the Debian multiarch toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake), which set STRATA_CROSS_TRIPLET and
# STRATA_CROSS_PROCESSOR and include this file.
#
# Debian's cross compilers (crossbuild-essential-arm64/-armhf) need no
# sysroot: they search the target's multiarch directories (/usr/include/<triplet>,
# /usr/lib/<triplet>) where `apt-get install libfoo-dev:<arch>` puts the
# libraries (scripts/setup-cross.sh installs them). pkg-config and CMake's
# package search are pointed at those same directories, never at the build
# machine's /usr/lib/x86_64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${STRATA_CROSS_PROCESSOR})
set(CMAKE_LIBRARY_ARCHITECTURE ${STRATA_CROSS_TRIPLET})

set(CMAKE_C_COMPILER ${STRATA_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${STRATA_CROSS_TRIPLET}-g++)

# Only the target's .pc files: PKG_CONFIG_LIBDIR replaces pkg-config's
# default search path (which would find the build machine's libraries).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${STRATA_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Programs (pkg-config, the shell, python) are the build machine's; libraries,
# headers and CMake packages are found under /usr through the multiarch
# directory CMAKE_LIBRARY_ARCHITECTURE names (lib/<triplet>, lib/<triplet>/cmake)
# or in arch-independent places (/usr/share/cmake: tl-expected, nlohmann_json).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# Test binaries (and gtest_discover_tests, which lists each binary's tests
# when it is built) run under qemu-user, named here so that no binfmt
# registration is needed. The binaries' libraries, libc included, are the
# multiarch packages (libc6:<arch>, pulled in by the -dev packages), and so is
# the loader: /lib/ld-linux-*.so.* from the same libc6:<arch>. qemu's
# `-L /usr/<triplet>` is deliberately not given: it would run the loader of
# libc6-<arch>-cross (a different build of glibc 2.36) against the multiarch
# libc.so.6, and ld.so and libc.so.6 of different builds do not work together
# (the first thread a program starts hangs on arm64, crashes on armhf).
set(CMAKE_CROSSCOMPILING_EMULATOR ${STRATA_CROSS_QEMU})
