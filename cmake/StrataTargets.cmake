# Shared compile settings for every strata target.
add_library(strata_options INTERFACE)
target_compile_options(strata_options INTERFACE
	-Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
	-Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wformat=2
	# g++ 12 warns about members left out of designated initialisers, which
	# STYLE.md encourages (the omitted members take their defaults).
	-Wno-missing-field-initializers)
# g++ 12 at -O2/-O3 warns about overlapping memcpy inside std::string
# concatenation that cannot happen (GCC bug 105329, fixed in g++ 13).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
	target_compile_options(strata_options INTERFACE -Wno-restrict)
endif()
if(STRATA_WERROR)
	target_compile_options(strata_options INTERFACE -Werror)
endif()
target_include_directories(strata_options INTERFACE ${PROJECT_SOURCE_DIR})
# A 64-bit time_t and off_t on 32-bit systems too (glibc 2.34+), so that
# nothing of strata's overflows in 2038, native or cross builds alike
# (cmake/toolchains/arm-linux-gnueabihf.cmake sets them for every target). Layouts
# other programs fix with their own time_t are spelled out (refclock/shm.h, sock.h).
if(CMAKE_SIZEOF_VOID_P EQUAL 4)
	target_compile_definitions(strata_options INTERFACE _TIME_BITS=64 _FILE_OFFSET_BITS=64)
endif()
if(STRATA_SANITIZE)
	string(REPLACE ";" "," _strata_san "${STRATA_SANITIZE}")
	target_compile_options(strata_options INTERFACE
		-fsanitize=${_strata_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
	target_link_options(strata_options INTERFACE -fsanitize=${_strata_san})
endif()

# With libFuzzer, every target is built with its coverage instrumentation, so
# that the fuzzers see the branches of the libraries they exercise.
if(STRATA_FUZZ)
	target_compile_options(strata_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# strata_library(NAME SOURCES... [LINK libs...]): a static library with the
# project's options. Pure libraries link only other pure libraries.
function(strata_library name)
	cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
	add_library(${name} STATIC ${ARG_SOURCES})
	target_link_libraries(${name} PUBLIC strata_options ${ARG_LINK})
endfunction()

# Tests are built at -O3 in CI (release-tests), where g++ 12 inlines the
# std::string copies of test literals and GoogleTest's and std::vector's
# accessors far enough to warn of overflows and null pointers that cannot
# happen (GCC bug 105651 and its kin, fixed in g++ 13). The libraries and
# the daemon keep every warning. Linked after strata_options, so that these
# come after its -W options on the command line.
add_library(strata_test_options INTERFACE)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
	target_compile_options(strata_test_options INTERFACE -Wno-stringop-overflow -Wno-array-bounds
		-Wno-null-dereference)
endif()

# strata_unit_sim_test_target(TARGET): TARGET is run by a test labelled unit
# or sim. The target strata_unit_sim_tests builds them all and nothing else,
# for builds that run only those labels (the arm64 and armhf presets, whose
# tests run under qemu-user).
function(strata_unit_sim_test_target target)
	if(NOT TARGET strata_unit_sim_tests)
		add_custom_target(strata_unit_sim_tests)
	endif()
	add_dependencies(strata_unit_sim_tests ${target})
endfunction()

# How GoogleTest binaries become CTest tests. By default one CTest test per
# TEST(), listed by running each binary when it is built
# (gtest_discover_tests), so that ctest -R and the test presets' name filters
# pick single tests. STRATA_TESTS_PER_BINARY (on in the arm64 and armhf
# presets) registers each binary as one test instead, named LABEL.BINARY, that
# runs all of the binary's tests in one process: under qemu-user every
# process start costs a translation of the program, and one process per test
# (plus one per binary at build time, to list them) made the armhf test step
# 2.5 times as long (60 s against 24 s on two cores). STRATA_TESTS_EXCLUDE: GoogleTest tests this
# build does not run, as a --gtest_filter pattern (A.B:C.*); the cross
# presets name the tests qemu-user cannot run (docs/development.md).
option(STRATA_TESTS_PER_BINARY "One CTest test per GoogleTest binary instead of one per TEST()" OFF)
set(STRATA_TESTS_EXCLUDE "" CACHE STRING "GoogleTest tests not to run: a --gtest_filter pattern, e.g. A.B:C.*")

# strata_gtest_tests(TARGET LABEL): registers the GoogleTest binary TARGET
# with CTest as above, its tests labelled LABEL.
function(strata_gtest_tests target label)
	set(filter "")
	if(STRATA_TESTS_EXCLUDE)
		set(filter "-${STRATA_TESTS_EXCLUDE}")
	endif()
	if(STRATA_TESTS_PER_BINARY)
		if(filter)
			add_test(NAME ${label}.${target} COMMAND ${target} --gtest_filter=${filter})
		else()
			add_test(NAME ${label}.${target} COMMAND ${target})
		endif()
		set_tests_properties(${label}.${target} PROPERTIES LABELS ${label})
	elseif(filter)
		gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_FILTER ${filter} PROPERTIES LABELS ${label})
	else()
		gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${label})
	endif()
endfunction()

# strata_unit_test(NAME SOURCES... LINK libs...): a GoogleTest binary
# registered with CTest (strata_gtest_tests), label unit.
# GoogleTest, GoogleMock and fmt are parsed once per build for every test
# binary (strata_test_pch, REUSE_FROM): they were half of a test file's
# compile time. A test whose flags differ simply parses them itself.
function(strata_unit_test name)
	cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
	if(NOT TARGET strata_test_pch)
		add_library(strata_test_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/test_pch.cpp)
		target_link_libraries(strata_test_pch PRIVATE strata_options GTest::gmock GTest::gtest_main fmt::fmt
			strata_test_options)
		target_precompile_headers(strata_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h> <fmt/format.h>)
	endif()
	add_executable(${name} ${ARG_SOURCES})
	strata_unit_sim_test_target(${name})
	target_link_libraries(${name} PRIVATE strata_options ${ARG_LINK} GTest::gmock GTest::gtest_main
		strata_test_options)
	target_precompile_headers(${name} REUSE_FROM strata_test_pch)
	strata_gtest_tests(${name} unit)
endfunction()

# strata_fuzz_target(NAME SOURCES... LINK libs... CORPUS dir): a parser fuzz
# target exposing LLVMFuzzerTestOneInput. With STRATA_FUZZ (clang) it is built
# as a libFuzzer binary NAME; in every build it is also linked with a small
# driver into NAME_corpus, and running the corpus is a normal CTest test.
function(strata_fuzz_target name)
	cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;LINK" ${ARGN})
	add_executable(${name}_corpus ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus_driver.cpp)
	target_link_libraries(${name}_corpus PRIVATE strata_options ${ARG_LINK})
	add_test(NAME fuzz.${name}.corpus COMMAND ${name}_corpus ${ARG_CORPUS})
	set_tests_properties(fuzz.${name}.corpus PROPERTIES LABELS fuzz)
	if(STRATA_FUZZ)
		if(NOT TARGET strata_fuzzers)
			add_custom_target(strata_fuzzers)
		endif()
		add_dependencies(strata_fuzzers ${name} ${name}_corpus)
		add_executable(${name} ${ARG_SOURCES})
		target_link_libraries(${name} PRIVATE strata_options ${ARG_LINK})
		target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
	endif()
endfunction()
