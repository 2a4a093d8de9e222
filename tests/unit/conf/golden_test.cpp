// The configuration fixtures in tests/golden/conf: every good/*.conf parses
// with no error and dumps to its .expected (regenerate with UPDATE_GOLDEN=1,
// then review the diff); every bad/*.conf gives exactly one error, the one in
// its .error file ("LINE: message"), at FILE:LINE.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "conf/directives.h"
#include "conf/parser.h"

namespace strata::conf {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = fs::path(STRATA_SOURCE_DIR) / "tests/golden/conf";

std::string slurp(const fs::path &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

std::vector<fs::path> fixtures(const fs::path &dir)
{
	std::vector<fs::path> out;
	for (const auto &e : fs::directory_iterator(dir)) {
		if (e.path().extension() == ".conf") {
			out.push_back(e.path());
		}
	}
	std::sort(out.begin(), out.end());
	return out;
}

TEST(ConfGolden, GoodFixturesParseAndDumpCanonically)
{
	SystemFileReader files;
	auto good = fixtures(kGolden / "good");
	ASSERT_GE(good.size(), 5u);
	for (const auto &path : good) {
		SCOPED_TRACE(path.string());
		auto r = load(files, path.string());
		for (const auto &d : r.diagnostics) {
			EXPECT_EQ(d.severity, Diagnostic::Severity::Warning) << d.to_string();
		}
		std::string out = dump(r.config);
		fs::path expected = fs::path(path).replace_extension(".expected");
		if (std::getenv("UPDATE_GOLDEN") != nullptr) {
			std::ofstream(expected) << out;
		}
		EXPECT_EQ(out, slurp(expected));

		// The canonical form reads back to itself.
		auto again = load_text(files, out, "dump");
		EXPECT_TRUE(again.ok());
		EXPECT_EQ(dump(again.config), out);
	}
}

TEST(ConfGolden, BadFixturesGiveOnePreciseError)
{
	SystemFileReader files;
	auto bad = fixtures(kGolden / "bad");
	ASSERT_GE(bad.size(), 6u);
	for (const auto &path : bad) {
		SCOPED_TRACE(path.string());
		auto r = load(files, path.string());
		std::vector<Diagnostic> errors;
		std::copy_if(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(errors),
			     [](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; });
		ASSERT_EQ(errors.size(), 1u);
		EXPECT_EQ(errors[0].file, path.string());
		std::string expected = slurp(fs::path(path).replace_extension(".error"));
		EXPECT_EQ(fmt::format("{}: {}\n", errors[0].line, errors[0].message), expected);
	}
}

// docs/configuration.md lists every directive with the status the table gives
// it, and no directive the table lacks.
TEST(ConfDocs, ReferenceListsEveryDirectiveWithItsStatus)
{
	std::string doc = slurp(fs::path(STRATA_SOURCE_DIR) / "docs/configuration.md");
	size_t rows = 0;
	for (size_t pos = 0; (pos = doc.find("\n| `", pos)) != std::string::npos; pos++) {
		rows++;
	}
	auto infos = directive_infos();
	EXPECT_EQ(rows, infos.size());
	for (const auto &d : infos) {
		std::string row = fmt::format("\n| `{}` | {} |", d.name, to_string(d.status));
		EXPECT_NE(doc.find(row), std::string::npos) << "docs/configuration.md lacks the row" << row;
	}
}

} // namespace
} // namespace strata::conf
