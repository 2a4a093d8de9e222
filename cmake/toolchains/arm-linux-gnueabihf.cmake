# Cross build for 32-bit ARM hard-float (Debian armhf: Raspberry Pi OS 32-bit,
# Pi 2 and later) with Debian's cross toolchain. CMakePresets.json's `armhf`
# presets use it; scripts/setup-cross.sh installs the compilers, qemu and the
# :armhf libraries.
#
# 64-bit time_t and file offsets: glibc's time functions, struct timespec and
# every time_t strata uses are 64-bit, so nothing overflows in 2038. Layouts
# that other programs fix with *their* time_t (gpsd's SHM segment and SOCK
# samples, written by a Debian 12 gpsd with a 32-bit time_t) are spelled out
# per ABI in refclock/ and never take the build's time_t.
set(STRATA_CROSS_TRIPLET arm-linux-gnueabihf)
set(STRATA_CROSS_PROCESSOR armv7l)
set(STRATA_CROSS_QEMU qemu-arm-static)
# What `file` says of a binary built here (checked by the test cross.*).
set(STRATA_CROSS_FILE_PATTERN "ELF 32-bit LSB [a-z ]*executable, ARM, EABI5.*ld-linux-armhf")
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
#
# -Wno-psabi: g++ notes at every function taking a std::span or small struct
# by value that GCC 7.1 changed how such arguments are passed on ARM; it
# concerns only code mixing objects built by GCC before 7.1, which no Debian
# 12 system has.
set(CMAKE_C_FLAGS_INIT "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 -Wno-psabi")
set(CMAKE_CXX_FLAGS_INIT "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 -Wno-psabi")
