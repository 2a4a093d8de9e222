#include "daemon/add_source.h"

#include <gtest/gtest.h>

#include "control/client_session.h"

namespace strata::daemon {
namespace {

/// What chronyc 4.3 sends for `add server NAME` with no options.
control::AddSourceArgs chronyc_defaults(std::string name)
{
	return {.kind = control::SourceKind::Server,
		.name = std::move(name),
		.port = 123,
		.minpoll = 6,
		.maxpoll = 10,
		.presend_minpoll = 100,
		.min_stratum = 0,
		.poll_target = 8,
		.version = 0,
		.max_sources = 4,
		.min_samples = -1,
		.max_samples = -1,
		.authkey = 0,
		.nts_port = 4460,
		.max_delay_s = 3.0,
		.max_delay_ratio = 0.0,
		.max_delay_dev_ratio = 10.0,
		.min_delay_s = 0.0,
		.asymmetry = 1.0,
		.offset_s = 0.0,
		.flags = control::kAddOnline,
		.filter_length = 0,
		.cert_set = 0,
		.max_delay_quant_s = 0.0};
}

TEST(AddSource, ChronycDefaultsAreAPlainServerLine)
{
	auto a = chronyc_defaults("ntp.example.org");
	EXPECT_EQ(source_line(a), "server ntp.example.org");
	auto c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	conf::SourceConfig defaults;
	EXPECT_EQ(c->host, "ntp.example.org");
	EXPECT_EQ(c->kind, conf::SourceKind::Server);
	EXPECT_EQ(c->port, 123);
	EXPECT_EQ(c->minpoll_log2, defaults.minpoll_log2);
	EXPECT_EQ(c->maxpoll_log2, defaults.maxpoll_log2);
	EXPECT_EQ(c->presend_log2, defaults.presend_log2);
	EXPECT_FALSE(c->asymmetry.has_value());
	EXPECT_FALSE(c->minsamples.has_value());
	EXPECT_FALSE(c->key.has_value());
	EXPECT_FALSE(c->offline);
	EXPECT_FALSE(c->iburst);
}

TEST(AddSource, OptionsAndFlagsBecomeTheirDirectiveOptions)
{
	auto a = chronyc_defaults("127.0.0.2");
	a.port = 11155;
	a.maxpoll = 2;
	a.minpoll = 0;
	a.presend_minpoll = 9;
	a.min_samples = 4;
	a.asymmetry = 0.25;
	a.offset_s = -0.5;
	a.flags = control::kAddIburst | control::kAddPrefer | control::kAddAutoOffline | control::kAddExtField1;
	EXPECT_EQ(source_line(a), "server 127.0.0.2 port 11155 minpoll 0 maxpoll 2 presend 9 minsamples 4 asymmetry "
				  "0.25 offset -0.5 offline auto_offline iburst prefer extfield F323");
	auto c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	EXPECT_EQ(c->port, 11155);
	EXPECT_EQ(c->minpoll_log2, 0);
	EXPECT_EQ(c->maxpoll_log2, 2);
	EXPECT_EQ(c->presend_log2, 9);
	EXPECT_EQ(c->minsamples, 4);
	EXPECT_EQ(c->asymmetry, 0.25);
	EXPECT_EQ(c->offset_s, -0.5);
	EXPECT_TRUE(c->offline);  // chronyc's `offline`: no kAddOnline bit
	EXPECT_TRUE(c->auto_offline && c->iburst && c->prefer);
	EXPECT_EQ(c->extfields, std::vector<std::string>{"F323"});
}

TEST(AddSource, WhatStratactlSendsComesBackAsTyped)
{
	// stratactl fills the request in as chronyc does: the line typed is the
	// line the daemon parses.
	for (const char *typed : {"server 192.0.2.1", "pool pool.example minpoll -2 maxsources 2 maxdelay 0.5 prefer",
				  "server 192.0.2.1 port 11154 minpoll 0 maxpoll 2 offline iburst"}) {
		auto a = control::parse_add_source(typed);
		ASSERT_TRUE(a.has_value()) << typed;
		EXPECT_EQ(source_line(*a), typed);
		EXPECT_TRUE(source_config_from(*a).has_value()) << typed;
	}
}

TEST(AddSource, PoolKeepsMaxsources)
{
	auto a = chronyc_defaults("pool.example.org");
	a.kind = control::SourceKind::Pool;
	a.max_sources = 2;
	auto c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	EXPECT_EQ(c->kind, conf::SourceKind::Pool);
	EXPECT_EQ(c->maxsources, 2);
}

TEST(AddSource, WhatChronyConfRefusesIsRefused)
{
	auto a = chronyc_defaults("192.0.2.1");
	a.maxpoll = 40;
	EXPECT_FALSE(source_config_from(a).has_value());
	a = chronyc_defaults("192.0.2.1");
	a.kind = control::SourceKind::Pool;
	a.max_sources = 99;
	auto c = source_config_from(a);
	ASSERT_FALSE(c.has_value());
	EXPECT_NE(c.error().context.find("maxsources"), std::string::npos) << c.error().context;
	a = chronyc_defaults("192.0.2.1");
	a.kind = control::SourceKind::Peer;
	EXPECT_FALSE(source_config_from(a).has_value());
	a = chronyc_defaults("192.0.2.1");
	a.version = 7;
	EXPECT_FALSE(source_config_from(a).has_value());
}

} // namespace
} // namespace strata::daemon
