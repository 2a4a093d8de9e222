#include "core/selection.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

SelectionCandidate cand(size_t id, double offset, double distance, int stratum = 2)
{
	return {.id = id, .offset_s = offset, .distance_s = distance, .jitter_s = 1e-5, .stratum = stratum};
}

TEST(Selection, SingleSourceIsSelected)
{
	auto r = select_sources({cand(7, 0.001, 0.01)}, {}, std::nullopt);
	ASSERT_TRUE(r.selected.has_value());
	EXPECT_EQ(*r.selected, 7u);
	EXPECT_EQ(r.states[0], CandidateState::Selected);
	EXPECT_DOUBLE_EQ(r.offset_s, 0.001);
}

TEST(Selection, FalsetickerOneSecondOffIsNeverSelected)
{
	// Two agree near 0; one is 1 s off with a smaller distance (it looks better).
	std::vector<SelectionCandidate> c = {cand(1, 0.0002, 0.005), cand(2, -0.0001, 0.004), cand(3, 1.0, 0.001, 1)};
	auto r = select_sources(c, {}, std::nullopt);
	ASSERT_TRUE(r.selected.has_value());
	EXPECT_NE(*r.selected, 3u);
	EXPECT_EQ(r.states[2], CandidateState::Falseticker);
	EXPECT_EQ(r.truechimers, 2u);
	EXPECT_LT(std::abs(r.offset_s), 0.001);
}

TEST(Selection, TwoDisagreeingSourcesGiveNoSelection)
{
	auto r = select_sources({cand(1, 0.0, 0.01), cand(2, 1.0, 0.01)}, {}, std::nullopt);
	EXPECT_FALSE(r.selected.has_value());
	EXPECT_EQ(r.states[0], CandidateState::NoMajority);
}

TEST(Selection, LowestScoreLeadsAndCloseOnesAreCombined)
{
	// Stratum 1 with 2 ms beats stratum 3 with 1.5 ms (1 ms per stratum);
	// the 40 ms one is beyond combinelimit 3 × 2 ms and is not combined.
	std::vector<SelectionCandidate> c = {cand(1, 0.0010, 0.0020, 1), cand(2, 0.0012, 0.0015, 3),
					     cand(3, 0.0011, 0.040, 2)};
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.selected, 1u);
	EXPECT_EQ(r.states[1], CandidateState::Combined);
	EXPECT_EQ(r.states[2], CandidateState::Truechimer);
	// Weighted by 1/distance: (0.0010/0.002 + 0.0012/0.0015) / (1/0.002 + 1/0.0015).
	EXPECT_NEAR(r.offset_s, (0.5 + 0.8) / (500.0 + 666.6666667), 1e-9);
	SelectionConfig no_combining{.combinelimit = 0};
	auto alone = select_sources(c, no_combining, std::nullopt);
	EXPECT_DOUBLE_EQ(alone.offset_s, 0.0010);
}

TEST(Selection, PreferWinsAmongTruechimersButNotOverFalsetickers)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 0.001), cand(2, 0.0, 0.010), cand(3, 0.0, 0.002)};
	c[1].prefer = true;
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.selected, 2u);
	EXPECT_EQ(r.states[0], CandidateState::Truechimer);  // non-prefer ones are not combined
	c[1].offset_s = 5.0;  // the preferred source goes wrong
	r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.states[1], CandidateState::Falseticker);
	EXPECT_EQ(r.selected, 1u);
}

TEST(Selection, NoselectIsNeverSelectedNorCounted)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 0.001), cand(2, 0.5, 0.001)};
	c[0].noselect = true;
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.selected, 2u);
	EXPECT_EQ(r.states[0], CandidateState::NoSelect);
}

TEST(Selection, RequireNeedsARequiredTruechimer)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 0.001), cand(2, 0.0, 0.001), cand(3, 2.0, 0.001)};
	c[2].require = true;  // the required source is a falseticker
	EXPECT_FALSE(select_sources(c, {}, std::nullopt).selected.has_value());
	c[2].offset_s = 0.0;
	EXPECT_TRUE(select_sources(c, {}, std::nullopt).selected.has_value());
	// A required source with no estimate yet blocks selection too.
	c[2].require = false;
	EXPECT_FALSE(select_sources(c, {}, std::nullopt, true).selected.has_value());
}

TEST(Selection, TrustedSourceOutvotesTheOthers)
{
	// Two untrusted agree on +1 s; the trusted one says 0: trust wins.
	std::vector<SelectionCandidate> c = {cand(1, 1.0, 0.001), cand(2, 1.0, 0.001), cand(3, 0.0, 0.001)};
	c[2].trust = true;
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.selected, 3u);
	EXPECT_EQ(r.states[0], CandidateState::Falseticker);
}

TEST(Selection, OthersMayNotPullTheEstimateOutOfTheTrustedInterval)
{
	// chrony's 120-selectoptions: falsetickers at +1 s and +2 s, the true
	// server trusted, all 0.65 s wide. The +1 s interval overlaps the
	// trusted one but reaches beyond it: not combined (chronyd's
	// SRC_UNTRUSTED), or the clock would land half-way.
	std::vector<SelectionCandidate> c = {cand(1, 1.0, 0.65), cand(2, 2.0, 0.65), cand(3, 0.0, 0.65)};
	c[2].trust = true;
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_EQ(r.selected, 3u);
	EXPECT_EQ(r.states[0], CandidateState::Falseticker);
	EXPECT_EQ(r.states[1], CandidateState::Falseticker);
	EXPECT_DOUBLE_EQ(r.offset_s, 0.0);
	// One inside the trusted interval is combined with it.
	c[0] = cand(1, 0.1, 0.2);
	r = select_sources(c, {}, std::nullopt);
	EXPECT_NE(r.states[0], CandidateState::Falseticker);
	// Two trusted that disagree: no majority of the trusted.
	c = {cand(1, 0.0, 0.1), cand(2, 1.0, 0.1), cand(3, 0.0, 0.1)};
	c[0].trust = c[1].trust = true;
	EXPECT_FALSE(select_sources(c, {}, std::nullopt).selected.has_value());
}

TEST(Selection, LimitsAndMinsources)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 5.0), cand(2, 0.0, 0.001)};
	c[1].jitter_s = 2.0;
	auto r = select_sources(c, {}, std::nullopt);
	EXPECT_FALSE(r.selected.has_value());
	EXPECT_EQ(r.states[0], CandidateState::TooFar);
	EXPECT_EQ(r.states[1], CandidateState::TooJittery);
	std::vector<SelectionCandidate> one = {cand(1, 0.0, 0.001)};
	EXPECT_FALSE(select_sources(one, {.minsources = 2}, std::nullopt).selected.has_value());
}

TEST(Selection, ReselectdistKeepsTheLeader)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 0.00100), cand(2, 0.0, 0.00095)};
	EXPECT_EQ(select_sources(c, {}, std::nullopt).selected, 2u);
	EXPECT_EQ(select_sources(c, {}, 1u).selected, 1u);  // 50 µs better is under reselectdist 100 µs
	c[1].distance_s = 0.0008;
	EXPECT_EQ(select_sources(c, {}, 1u).selected, 2u);  // 200 µs better switches
}

TEST(Selection, TouchingIntervalsAgree)
{
	std::vector<SelectionCandidate> c = {cand(1, 0.0, 0.001), cand(2, 0.002, 0.001), cand(3, 1.0, 0.001)};
	auto r = select_sources(c, {}, std::nullopt);
	ASSERT_TRUE(r.selected.has_value());
	EXPECT_EQ(r.truechimers, 2u);
}

// authselectmode, as chronyd 4.3's update_sel_options: three NTP sources
// (one authenticated), a refclock, and an unauthenticated source configured
// noselect (not counted, and left alone).
TEST(AuthSelect, EachModeAddsChronydsOptions)
{
	const std::vector<AuthSelectSource> sources = {
		{.ntp = true, .authenticated = true},
		{.ntp = true, .authenticated = false},
		{.ntp = true, .authenticated = false, .configured = {.prefer = true}},
		{.ntp = false},
		{.ntp = true, .authenticated = false, .configured = {.noselect = true}},
	};
	const SelectOptions none{}, req_trust{.trust = true, .require = true}, nosel{.noselect = true};
	const SelectOptions prefer{.prefer = true}, prefer_nosel{.prefer = true, .noselect = true};
	EXPECT_EQ(auth_select_options(AuthSelectMode::Ignore, sources),
		  (std::vector<SelectOptions>{none, none, prefer, none, nosel}));
	EXPECT_EQ(auth_select_options(AuthSelectMode::Mix, sources),
		  (std::vector<SelectOptions>{req_trust, none, prefer, req_trust, nosel}));
	EXPECT_EQ(auth_select_options(AuthSelectMode::Prefer, sources),
		  (std::vector<SelectOptions>{none, nosel, prefer_nosel, none, nosel}));
	EXPECT_EQ(auth_select_options(AuthSelectMode::Require, sources),
		  (std::vector<SelectOptions>{none, nosel, prefer_nosel, none, nosel}));
}

TEST(AuthSelect, WithoutAuthenticatedSourcesOnlyRequireChangesAnything)
{
	const std::vector<AuthSelectSource> sources = {
		{.ntp = true},
		{.ntp = false},
		// An authenticated source configured noselect is not counted.
		{.ntp = true, .authenticated = true, .configured = {.noselect = true}},
	};
	const SelectOptions none{}, nosel{.noselect = true};
	for (auto mode : {AuthSelectMode::Ignore, AuthSelectMode::Mix, AuthSelectMode::Prefer}) {
		EXPECT_EQ(auth_select_options(mode, sources), (std::vector<SelectOptions>{none, none, nosel}));
	}
	EXPECT_EQ(auth_select_options(AuthSelectMode::Require, sources), (std::vector<SelectOptions>{nosel, none, nosel}));
	// Only authenticated sources: mix adds nothing (it needs both kinds).
	const std::vector<AuthSelectSource> only_auth = {{.ntp = true, .authenticated = true}, {.ntp = false}};
	EXPECT_EQ(auth_select_options(AuthSelectMode::Mix, only_auth), (std::vector<SelectOptions>{none, none}));
}

} // namespace
} // namespace strata
