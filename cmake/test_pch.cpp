// The translation unit that builds the test binaries' shared precompiled
// header (cmake/StrataTargets.cmake, strata_test_pch); it holds nothing.
