#include "core/source_set.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

/// Three agreeing sources, `inserting` of them announcing a leap insertion.
SourceSetDecision decide_with(int inserting)
{
	SourceSet set({}, {});
	for (int i = 0; i < 3; i++) {
		size_t k = set.add_source({.stratum = 1, .leap = i < inserting ? Leap::Insert : Leap::None});
		for (int n = 0; n < 8; n++) {
			set.add_sample(k, {kStart + n * 16s, 1e-4 * (1 + i), 1e-3, 1e-7});
		}
	}
	return set.decide(kStart + 7 * 16s);
}

TEST(SourceSet, LeapIsTheMajoritysOfTheCombinedSources)
{
	EXPECT_EQ(decide_with(0).reference.leap, Leap::None);
	EXPECT_EQ(decide_with(1).reference.leap, Leap::None);
	EXPECT_EQ(decide_with(2).reference.leap, Leap::Insert);
	EXPECT_EQ(decide_with(3).reference.leap, Leap::Insert);
}

TEST(SourceSet, ServesTheLeadersStratumPlusOne)
{
	auto d = decide_with(0);
	ASSERT_TRUE(d.selection.selected.has_value());
	ASSERT_TRUE(d.estimate.has_value());
	EXPECT_EQ(d.reference.stratum, 2);
	EXPECT_GT(d.root_distance_s, 0.0);
}

TEST(SourceSet, EstimateOnlyForTheLeadersNewSamples)
{
	SourceSet set({}, {});
	size_t k = set.add_source({.stratum = 1});
	for (int n = 0; n < 4; n++) {
		set.add_sample(k, {kStart + n * 16s, 0.0, 1e-3, 1e-7});
	}
	EXPECT_TRUE(set.decide(kStart + 64s).estimate.has_value());
	EXPECT_FALSE(set.decide(kStart + 65s).estimate.has_value());  // nothing new
	set.add_sample(k, {kStart + 80s, 0.0, 1e-3, 1e-7});
	EXPECT_TRUE(set.decide(kStart + 80s).estimate.has_value());
}

TEST(SourceSet, UnreachableSourcesAreNotCandidates)
{
	// A refclock whose writer stopped keeps its old samples; while its
	// reachability register is empty it must not be selected.
	SourceSet set({}, {});
	size_t k = set.add_source({.stratum = 0});
	for (int n = 0; n < 4; n++) {
		set.add_sample(k, {kStart + n * 16s, 0.0, 1e-3, 1e-7});
	}
	set.set_reachable(k, false);
	auto d = set.decide(kStart + 64s);
	EXPECT_FALSE(d.selection.selected.has_value());
	EXPECT_FALSE(d.estimate.has_value());
	set.set_reachable(k, true);
	EXPECT_TRUE(set.decide(kStart + 64s).selection.selected.has_value());
}

} // namespace
} // namespace strata
