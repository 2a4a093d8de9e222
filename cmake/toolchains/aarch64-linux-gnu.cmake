# Cross build for 64-bit ARM (Debian arm64: Raspberry Pi 3/4/5 with a 64-bit
# system) with Debian's cross toolchain. CMakePresets.json's `arm64` presets use it;
# scripts/setup-cross.sh installs the compilers, qemu and the :arm64 libraries.
set(STRATA_CROSS_TRIPLET aarch64-linux-gnu)
set(STRATA_CROSS_PROCESSOR aarch64)
set(STRATA_CROSS_QEMU qemu-aarch64-static)
# What `file` says of a binary built here (checked by the test cross.*).
set(STRATA_CROSS_FILE_PATTERN "ELF 64-bit LSB [a-z ]*executable, ARM aarch64")
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
