#include "daemon/add_source.h"

#include <gtest/gtest.h>

#include "control/source_request.h"

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

TEST(AddSource, ChronycDefaultsAreAPlainServer)
{
	auto c = source_config_from(chronyc_defaults("ntp.example.org"));
	ASSERT_TRUE(c.has_value()) << c.error().message();
	conf::SourceConfig want{.host = "ntp.example.org", .origin = {"chronyc", 0}};
	EXPECT_EQ(c->config, want);
	EXPECT_TRUE(c->warnings.empty());
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
	auto c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	EXPECT_EQ(c->config.port, 11155);
	EXPECT_EQ(c->config.minpoll_log2, 0);
	EXPECT_EQ(c->config.maxpoll_log2, 2);
	EXPECT_EQ(c->config.presend_log2, 9);
	EXPECT_EQ(c->config.minsamples, 4);
	EXPECT_EQ(c->config.asymmetry, 0.25);
	EXPECT_EQ(c->config.offset_s, -0.5);
	EXPECT_TRUE(c->config.offline);  // chronyc's `offline`: no kAddOnline bit
	EXPECT_TRUE(c->config.auto_offline && c->config.iburst && c->config.prefer);
	EXPECT_EQ(c->config.extfields, std::vector<std::string>{"F323"});
}

TEST(AddSource, PoolKeepsMaxsourcesAServerWarns)
{
	auto a = chronyc_defaults("pool.example.org");
	a.kind = control::SourceKind::Pool;
	a.max_sources = 2;
	auto c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	EXPECT_EQ(c->config.kind, conf::SourceKind::Pool);
	EXPECT_EQ(c->config.maxsources, 2);
	EXPECT_TRUE(c->warnings.empty());
	a.kind = control::SourceKind::Server;
	c = source_config_from(a);
	ASSERT_TRUE(c.has_value()) << c.error().message();
	EXPECT_EQ(c->warnings, std::vector<std::string>{"option 'maxsources' has no effect in add server"});
}

TEST(AddSource, WhatChronyConfRefusesIsRefused)
{
	auto a = chronyc_defaults("192.0.2.1");
	a.maxpoll = 40;
	auto c = source_config_from(a);
	ASSERT_FALSE(c.has_value());
	EXPECT_EQ(c.error().code, make_error_code(Errc::InvalidArgument));
	EXPECT_EQ(c.error().context, "maxpoll 40 out of range -7..24");
	a = chronyc_defaults("192.0.2.1");
	a.kind = control::SourceKind::Pool;
	a.max_sources = 99;
	c = source_config_from(a);
	ASSERT_FALSE(c.has_value());
	EXPECT_EQ(c.error().context, "maxsources 99 out of range 1..16");
	a = chronyc_defaults("192.0.2.1");
	a.version = 7;
	EXPECT_FALSE(source_config_from(a).has_value());
	a = chronyc_defaults("192.0.2.1");
	a.kind = control::SourceKind::Peer;
	c = source_config_from(a);
	ASSERT_FALSE(c.has_value());
	EXPECT_EQ(c.error().code, make_error_code(Errc::Unsupported));
}

} // namespace
} // namespace strata::daemon
