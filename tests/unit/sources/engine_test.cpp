// The source engine driven as the daemon drives it, with a fake scheduler
// (virtual time), a fake clock and canned NTP packets: polling intervals,
// iburst and burst, the reachability register, falsetickers, a leap second
// announced to the clock, `filter`, and -q/-Q. The servers are the test's:
// each request the engine sends is answered (or not) by building a reply
// with the daemon's responder code.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "conf/parser.h"
#include "core/random.h"
#include "ntp/packet.h"
#include "ntp/responder.h"
#include "sources/auth.h"
#include "sources/engine.h"
#include "sources/reports.h"
#include "tests/fakes/fake_file_reader.h"
#include "tests/fakes/recording_logger.h"

namespace strata::sources {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

/// What a fake server does with a request.
struct ServerBehaviour {
	double offset_s = 0;       ///< its clock against true time
	double delay_s = 1e-3;     ///< round trip
	bool answers = true;
	/// Answers only one request in this many (the others are lost).
	int answer_one_in = 1;
	int requests = 0;
	Leap leap = Leap::None;
	int stratum = 1;
	/// Answers as if it knew no keys: a request's MAC is ignored, the
	/// reply carries none.
	bool ignores_auth = false;
};

struct Sent {
	SourceId id;
	IpAddress to;
	double at_s;  ///< true seconds since the start
};

class Harness final : public Scheduler, public EngineIo {
public:
	/// The local clock: true time plus `offset`, steered by the engine (a
	/// perfect oscillator: it runs at exactly the frequency set).
	class Clock final : public LocalClock {
	public:
		explicit Clock(Harness &h) : h_(h) {}
		RealTime now() const override { return kStart + h_.now_ + from_seconds(error_s()); }
		RealTime from_system(RealTime raw) const override { return raw; }
		Result<double> set_frequency_ppm(double ppm) override
		{
			offset_s = error_s();
			since_ = h_.now_;
			freq_ppm = ppm;
			return ppm;
		}
		/// local − true now.
		double error_s() const { return offset_s + freq_ppm * 1e-6 * to_seconds(h_.now_ - since_); }
		double frequency_ppm() const override { return freq_ppm; }
		double max_frequency_ppm() const override { return 500000; }
		Result<> step(Duration d) override
		{
			offset_s = error_s() + to_seconds(d);
			since_ = h_.now_;
			steps.push_back(to_seconds(d));
			return {};
		}
		Result<> set_leap(Leap leap) override
		{
			leaps.push_back(leap);
			return {};
		}
		Result<> set_sync_status(bool synced, double, double) override
		{
			synced_updates += synced ? 1 : 0;
			return {};
		}

		double offset_s = 0;  ///< local − true when the frequency was last set
		double freq_ppm = 0;
		std::vector<double> steps;
		std::vector<Leap> leaps;
		int synced_updates = 0;

	private:
		Harness &h_;
		Duration since_{};
	};

	RecordingLogger log;
	Clock clock{*this};
	ReferenceState reference{std::nullopt, MonoTime{}};
	std::map<IpAddress, ServerBehaviour> servers;
	std::vector<Sent> sent;
	std::map<IpAddress, bool> symmetric;  ///< a `peer`'s packets come to the NTP port
	bool stopped = false;
	std::unique_ptr<Engine> engine;
	/// The servers' keyfile: authenticated requests are answered with a
	/// MAC of their key; nullptr: they are not answered.
	std::shared_ptr<const ntp::KeyStore> server_keys;

	~Harness() override { engine.reset(); }

	void start(const std::string &conf, EngineSettings settings = {})
	{
		strata::testing::FakeFileReader files;
		auto loaded = conf::load_text(files, conf, "test.conf");
		for (const auto &d : loaded.diagnostics) {
			ASSERT_NE(d.severity, conf::Diagnostic::Severity::Error) << d.to_string();
		}
		auto started = Engine::start(loaded.config, settings,
					     {.scheduler = *this, .clock = clock, .io = *this, .log = log, .reference = reference});
		ASSERT_TRUE(started.has_value()) << started.error().message();
		engine = std::move(*started);
	}

	/// Runs every event due up to true time `t_s`.
	void run_to(double t_s)
	{
		Duration end = from_seconds(t_s);
		while (!events_.empty() && events_.begin()->first.at <= end && !stopped) {
			auto it = events_.begin();
			now_ = it->first.at;
			auto fn = std::move(it->second);
			events_.erase(it);
			fn();
		}
		now_ = std::max(now_, end);
	}
	double now_s() const { return to_seconds(now_); }

	/// Send times to `to`, in true seconds.
	std::vector<double> sends_to(const IpAddress &to) const
	{
		std::vector<double> out;
		for (const auto &s : sent) {
			if (s.to == to) {
				out.push_back(s.at_s);
			}
		}
		return out;
	}

	// Scheduler
	MonoTime now() const override { return MonoTime{now_}; }
	TimerId add_timer(MonoTime at, std::function<void()> fn) override
	{
		TimerId id = next_id_++;
		events_.emplace(Key{std::max(at.since_epoch, now_), id}, std::move(fn));
		return id;
	}
	void cancel(TimerId id) override
	{
		std::erase_if(events_, [id](const auto &e) { return e.first.id == id; });
	}

	// EngineIo
	Result<SourceIoInfo> open_source(SourceId, const IpAddress &address, bool sym) override
	{
		symmetric[address] = sym;
		return SourceIoInfo{};
	}
	void close_source(SourceId) override {}
	Result<> send(SourceId id, const IpAddress &to, uint16_t, std::span<const std::byte> packet) override
	{
		sent.push_back({id, to, now_s()});
		auto server = servers.find(to);
		if (server == servers.end() || !server->second.answers ||
		    server->second.requests++ % server->second.answer_one_in != 0) {
			return {};
		}
		const ServerBehaviour &b = server->second;
		ntp::Drop why{};
		auto request = ntp::classify(b.ignores_auth ? packet.first(ntp::kHeaderSize) : packet, false, why, nullptr,
					     server_keys.get());
		if (!request) {
			EXPECT_EQ(why, ntp::Drop::AuthFailed);
			return {};
		}
		double half = b.delay_s / 2;
		RealTime t2 = kStart + now_ + from_seconds(half + b.offset_s);
		Reference ref{.synchronized = true, .leap = b.leap, .stratum = b.stratum, .ref_id = 0x47505300,
			      .ref_time = t2 - 10s};
		std::vector<std::byte> reply(ntp::kHeaderSize + ntp::kMaxMacTrailer);
		ntp::build_reply(*request, t2, ref, false, {.precision_log2 = -25}, rng_,
				 std::span(reply).first<ntp::kHeaderSize>());
		ntp::stamp_transmit(std::span(reply).first<ntp::kHeaderSize>(), t2, -25, rng_);
		reply.resize(ntp::append_auth(*request, reply));  // a MAC, a crypto-NAK or nothing
		add_timer(MonoTime{now_ + from_seconds(b.delay_s)}, [this, id, to, reply] {
			RxPacket p{.from = to, .from_port = 123, .rx_system = clock.now(), .payload = reply};
			if (symmetric[to]) {
				EXPECT_TRUE(engine->on_symmetric_packet(p));
			} else {
				engine->on_packet(id, p);
			}
		});
		return {};
	}
	void watch_refclock(size_t, int) override {}
	void stop() override { stopped = true; }

private:
	struct Key {
		Duration at;
		TimerId id;
		friend auto operator<=>(const Key &, const Key &) = default;
	};
	Duration now_{};
	std::map<Key, std::function<void()>> events_;
	TimerId next_id_ = 1;
	Xoshiro256 rng_{3};
};

IpAddress ip(const char *text)
{
	return *IpAddress::parse(text);
}

std::vector<double> gaps(const std::vector<double> &times)
{
	std::vector<double> out;
	for (size_t i = 1; i < times.size(); i++) {
		out.push_back(times[i] - times[i - 1]);
	}
	return out;
}

TEST(Engine, PollsAtMinpollAndStaysWithinMinpollAndMaxpoll)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 4 maxpoll 6\n");
	h.run_to(3000);
	auto times = h.sends_to(ip("192.0.2.1"));
	ASSERT_GE(times.size(), 40u);
	// The first request 0.2 s after the start; every interval up to 2 %
	// longer at random, as chronyd's.
	EXPECT_GE(times[0], 0.2);
	EXPECT_LE(times[0], 0.2 * 1.02);
	EXPECT_GE(times[1] - times[0], 16.0);  // the first interval is minpoll
	EXPECT_LE(times[1] - times[0], 16.0 * 1.02);
	auto g = gaps(times);
	for (double x : g) {
		EXPECT_GE(x, 16.0 - 1e-9);
		EXPECT_LE(x, 64.0 * 1.02 + 1e-9);
	}
	// Not all alike: the randomness is there.
	EXPECT_NE(*std::min_element(g.begin() + 1, g.begin() + 4), *std::max_element(g.begin() + 1, g.begin() + 4));
	// A quiet server lets the interval grow to maxpoll.
	EXPECT_GE(g.back(), 64.0);
	EXPECT_GT(h.clock.synced_updates, 10);
}

TEST(Engine, IburstSendsFourRequestsTwoSecondsApartThenPolls)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 iburst minpoll 6 maxpoll 6\n");
	h.run_to(200);
	auto times = h.sends_to(ip("192.0.2.1"));
	ASSERT_GE(times.size(), 6u);
	auto g = gaps(times);
	for (size_t i = 0; i < 3; i++) {
		EXPECT_GE(g[i], 2.0) << i;
		EXPECT_LE(g[i], 2.0 * 1.02) << i;
	}
	EXPECT_GE(g[3], 64.0 - 2.1);  // the poll counts from the last request of the burst
	EXPECT_LE(g[3], 64.0 * 1.02);
	// Synchronised within the burst (chronyd's iburst: a few seconds).
	EXPECT_GE(h.clock.synced_updates, 1);
	EXPECT_EQ(h.log.count_with("Selected source 192.0.2.1"), 1u);
}

TEST(Engine, BurstCommandSendsAtTwoSecondsUntilEnoughGoodResponses)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 8 maxpoll 8\n");
	h.run_to(100);
	ASSERT_EQ(h.sends_to(ip("192.0.2.1")).size(), 1u);
	EXPECT_EQ(h.engine->burst([](const IpAddress &) { return true; }, 3, 5), 1u);
	h.run_to(120);
	auto times = h.sends_to(ip("192.0.2.1"));
	// Now, then 2 s apart until three good responses.
	ASSERT_EQ(times.size(), 4u);
	EXPECT_NEAR(times[1], 100.0, 1e-9);
	EXPECT_NEAR(times[2], 102.0, 0.05);
	EXPECT_NEAR(times[3], 104.0, 0.1);
}

TEST(Engine, OfflineDuringABurstFinishesTheBurstThenRests)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 8 maxpoll 8\n");
	h.run_to(100);
	ASSERT_EQ(h.sends_to(ip("192.0.2.1")).size(), 1u);
	auto all = [](const IpAddress &) { return true; };
	EXPECT_EQ(h.engine->burst(all, 3, 5), 1u);
	h.run_to(101);
	// Offline after the burst's first request: the burst goes on to its three
	// good answers (chronyd's "return to offline"), then nothing more.
	EXPECT_EQ(h.engine->set_online(all, false), 1u);
	h.run_to(2000);
	auto times = h.sends_to(ip("192.0.2.1"));
	ASSERT_EQ(times.size(), 4u);
	EXPECT_NEAR(times[3], 104.0, 0.1);
	// Online again: polled at once.
	EXPECT_EQ(h.engine->set_online(all, true), 1u);
	h.run_to(2001);
	EXPECT_EQ(h.sends_to(ip("192.0.2.1")).size(), 5u);
}

TEST(Engine, TheBurstOptionRetriesAtTwoSecondsWhenAPollGetsNoAnswer)
{
	Harness h;
	// Three requests of four lost: at long polls, each unanswered regular
	// request is followed by requests 2 s apart until one is answered.
	h.servers[ip("192.0.2.1")] = {.answer_one_in = 4};
	h.start("server 192.0.2.1 burst polltarget 1 minpoll 6 maxpoll 10\n");
	h.run_to(20000);
	auto g = gaps(h.sends_to(ip("192.0.2.1")));
	ASSERT_FALSE(g.empty());
	EXPECT_GE(*std::min_element(g.begin(), g.end()), 2.0);
	EXPECT_LE(*std::min_element(g.begin(), g.end()), 2.0 * 1.02);
	EXPECT_GE(*std::max_element(g.begin(), g.end()), 1024.0);
	EXPECT_LE(*std::max_element(g.begin(), g.end()), 1024.0 * 1.02);
}

TEST(Engine, ASingleLostResponseLeavesThePollAloneTheSecondBacksOff)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 4 maxpoll 10\n");
	h.run_to(600);
	const NtpSource *s = h.engine->find(ip("192.0.2.1"));
	ASSERT_NE(s, nullptr);
	ASSERT_EQ(h.engine->tracking().selected, std::optional<size_t>(s->index));
	auto run_to_next_send = [&] {
		size_t sent = h.sends_to(ip("192.0.2.1")).size();
		while (h.sends_to(ip("192.0.2.1")).size() == sent) {
			h.run_to(h.now_s() + 0.5);
		}
	};
	run_to_next_send();  // answered
	h.servers[ip("192.0.2.1")].answers = false;
	run_to_next_send();  // the poll after it: its request will be lost
	int poll = s->adapter.poll();
	double score = s->adapter.score();
	run_to_next_send();  // one miss found: the score stays
	EXPECT_EQ(s->adapter.poll(), poll);
	EXPECT_DOUBLE_EQ(s->adapter.score(), score);
	run_to_next_send();  // the second in a row: backed off by 0.1 (selected)
	EXPECT_DOUBLE_EQ(s->adapter.poll() + s->adapter.score(), poll + score + 0.1);
}

TEST(Engine, TheReachRegisterFillsAndEmptiesAndTheSourceIsDeclaredUnreachable)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 4 maxpoll 4\n");
	h.run_to(16 * 9 + 1);
	const NtpSource *s = h.engine->find(ip("192.0.2.1"));
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->client.reach(), 0xff);
	ASSERT_EQ(h.engine->tracking().selected, std::optional<size_t>(s->index));
	h.servers[ip("192.0.2.1")].answers = false;
	// Each unanswered poll shifts a 0 in: 0xfe, 0xfc, … 0x00.
	uint8_t expected = 0xff;
	for (int k = 0; k < 8; k++) {
		h.run_to(h.now_s() + 16);
		expected = static_cast<uint8_t>(expected << 1);
		EXPECT_EQ(s->client.reach(), expected) << k;
	}
	h.run_to(h.now_s() + 16);
	EXPECT_EQ(h.log.count_with("Source 192.0.2.1 is unreachable"), 1u);
	EXPECT_FALSE(h.engine->source_set().info(s->index).reachable);
	EXPECT_EQ(select_letter(*h.engine, s->index), 'N');
	// Answering again: reachable, selected again.
	h.servers[ip("192.0.2.1")].answers = true;
	h.run_to(h.now_s() + 16 * 8);
	EXPECT_TRUE(h.engine->source_set().info(s->index).reachable);
	EXPECT_EQ(h.engine->tracking().selected, std::optional<size_t>(s->index));
}

TEST(Engine, RequestsOfDifferentSourcesAreKeptApart)
{
	Harness h;
	for (const char *a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
		h.servers[ip(a)] = {};
	}
	h.start("server 192.0.2.1 minpoll 4 maxpoll 4\nserver 192.0.2.2 minpoll 4 maxpoll 4\n"
		"server 192.0.2.3 minpoll 4 maxpoll 4\n");
	h.run_to(1000);
	// At poll 4 the separation is min(2^(4−3), 0.2) = 0.2 s (chronyd's).
	std::vector<double> all;
	for (const auto &sent : h.sent) {
		all.push_back(sent.at_s);
	}
	std::sort(all.begin(), all.end());
	for (double g : gaps(all)) {
		EXPECT_GE(g, 0.2 - 1e-9);
	}
}

TEST(Engine, APeerIsPolledInSymmetricModeAndSynchronisesTheClock)
{
	Harness h;
	h.clock.offset_s = 0.02;
	h.servers[ip("192.0.2.7")] = {};  // answers symmetric active with passive
	h.start("peer 192.0.2.7 minpoll 4 maxpoll 4\n");
	h.run_to(200);
	EXPECT_TRUE(h.symmetric[ip("192.0.2.7")]);
	const NtpSource *p = h.engine->find(ip("192.0.2.7"));
	ASSERT_NE(p, nullptr);
	EXPECT_GE(p->total_good, 10u);
	EXPECT_EQ(h.log.count_with("Selected source 192.0.2.7"), 1u);
	EXPECT_LT(std::abs(h.clock.error_s()), 1e-3);
	// A symmetric packet from anyone else is the server's to answer.
	std::array<std::byte, ntp::kHeaderSize> stray{};
	stray[0] = std::byte{0x21};  // version 4, mode 1
	EXPECT_FALSE(h.engine->on_symmetric_packet({.from = ip("192.0.2.8"), .from_port = 123, .payload = stray}));
}

TEST(Engine, AFalsetickerIsNeverSelected)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.servers[ip("192.0.2.2")] = {.offset_s = 1.0};
	h.servers[ip("192.0.2.3")] = {};
	h.start("server 192.0.2.1 minpoll 4 maxpoll 4\nserver 192.0.2.2 minpoll 4 maxpoll 4\n"
		"server 192.0.2.3 minpoll 4 maxpoll 4\n");
	for (int k = 0; k < 40; k++) {
		h.run_to(h.now_s() + 16);
		auto selected = h.engine->tracking().selected;
		if (selected) {
			EXPECT_NE(h.engine->ntp_at(*selected)->address, ip("192.0.2.2"));
		}
	}
	const NtpSource *bad = h.engine->find(ip("192.0.2.2"));
	EXPECT_EQ(h.engine->state_of(bad->index), CandidateState::Falseticker);
	EXPECT_EQ(select_letter(*h.engine, bad->index), 'x');
	EXPECT_LT(std::abs(h.clock.error_s()), 1e-3);
}

TEST(Engine, ALeapSecondAnnouncedByTheSourcesIsPassedToTheClock)
{
	Harness h;
	for (const char *a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
		h.servers[ip(a)] = {.leap = Leap::Insert};
	}
	h.start("server 192.0.2.1 minpoll 4 maxpoll 4\nserver 192.0.2.2 minpoll 4 maxpoll 4\n"
		"server 192.0.2.3 minpoll 4 maxpoll 4\n");
	h.run_to(200);
	ASSERT_FALSE(h.clock.leaps.empty());
	EXPECT_EQ(h.clock.leaps.back(), Leap::Insert);
	EXPECT_EQ(h.log.count_with("Leap second announced: insertion"), 1u);
	// Served on to the clients.
	EXPECT_EQ(h.reference.current(h.clock.now(), h.now()).leap, Leap::Insert);
	// And withdrawn when the sources stop announcing it.
	for (auto &[address, b] : h.servers) {
		b.leap = Leap::None;
	}
	h.run_to(400);
	EXPECT_EQ(h.clock.leaps.back(), Leap::None);
}

TEST(Engine, FilterMakesOneSampleOfEveryNResponses)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 2 maxpoll 2 filter 4\n");
	h.run_to(165);
	const NtpSource *s = h.engine->find(ip("192.0.2.1"));
	ASSERT_GE(s->total_valid, 40u);
	EXPECT_EQ(s->total_good, s->total_valid / 4);
	EXPECT_EQ(h.engine->source_set().stats(s->index).size(), s->total_good);
}

TEST(Engine, SetOnceStepsTheClockByTheMeasuredOffsetAndStops)
{
	Harness h;
	h.clock.offset_s = -0.25;  // the clock is slow
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 iburst\n", {.set_once = true});
	h.run_to(60);
	EXPECT_TRUE(h.stopped);
	ASSERT_EQ(h.clock.steps.size(), 1u);
	EXPECT_NEAR(h.clock.steps[0], 0.25, 1e-6);
	ASSERT_TRUE(h.engine->printed_offset().has_value());
	EXPECT_NEAR(*h.engine->printed_offset(), 0.25, 1e-6);
	EXPECT_EQ(h.log.count_with("System clock wrong by 0.25"), 1u);
	EXPECT_FALSE(h.engine->drift().has_value());  // -q never writes the drift file
}

TEST(Engine, PrintOnceMeasuresWithoutTouchingTheClock)
{
	Harness h;
	h.clock.offset_s = 0.5;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 iburst\n", {.print_once = true});
	h.run_to(60);
	EXPECT_TRUE(h.stopped);
	EXPECT_TRUE(h.clock.steps.empty());
	EXPECT_EQ(h.clock.freq_ppm, 0.0);
	ASSERT_TRUE(h.engine->printed_offset().has_value());
	EXPECT_NEAR(*h.engine->printed_offset(), -0.5, 1e-6);
	EXPECT_EQ(h.log.count_with("(ignored)"), 1u);
}

TEST(Engine, InitstepslewStepsALargeFirstOffset)
{
	Harness h;
	h.clock.offset_s = 3.0;
	h.servers[ip("192.0.2.1")] = {};
	h.start("initstepslew 1 192.0.2.1\n");
	h.run_to(30);
	ASSERT_EQ(h.clock.steps.size(), 1u);
	EXPECT_NEAR(h.clock.steps[0], -3.0, 1e-6);
	EXPECT_EQ(h.log.count_with("System's initial offset : 3.000000 seconds fast of true (step)"), 1u);
	EXPECT_LT(std::abs(h.clock.error_s()), 1e-3);
}

TEST(Engine, InitstepslewWithNoAnswerGivesUpThenTheConfiguredSourcesRun)
{
	Harness h;
	h.servers[ip("192.0.2.9")] = {.answers = false};
	h.servers[ip("192.0.2.1")] = {};
	h.start("initstepslew 1 192.0.2.9\nserver 192.0.2.1 minpoll 4 maxpoll 4\n");
	h.run_to(7);
	// Only the initstepslew host is polled meanwhile: its burst, 2 s apart.
	EXPECT_TRUE(h.sends_to(ip("192.0.2.1")).empty());
	EXPECT_EQ(h.log.count_with("No suitable source for initstepslew"), 0u);
	h.run_to(9.5);
	// Five requests unanswered: too few are left of the first eight for
	// three samples (chronyd's rule). It gives up at once.
	EXPECT_EQ(h.log.count_with("No suitable source for initstepslew"), 1u);
	EXPECT_EQ(h.sends_to(ip("192.0.2.9")).size(), 5u);
	EXPECT_TRUE(h.sends_to(ip("192.0.2.1")).empty());
	EXPECT_EQ(h.engine->find(ip("192.0.2.9")), nullptr);
	h.run_to(500);
	EXPECT_FALSE(h.sends_to(ip("192.0.2.1")).empty());
	EXPECT_EQ(h.log.count_with("Selected source 192.0.2.1"), 1u);
	EXPECT_TRUE(h.clock.steps.empty());
}

TEST(Engine, SetOnceWithNoAnswerGivesUpAndStops)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {.answers = false};
	h.start("server 192.0.2.1 iburst minpoll 1 maxpoll 1\n", {.set_once = true});
	h.run_to(60);
	EXPECT_TRUE(h.stopped);
	EXPECT_EQ(h.log.count_with("No suitable source for synchronisation"), 1u);
	EXPECT_FALSE(h.engine->printed_offset().has_value());
	EXPECT_TRUE(h.clock.steps.empty());
}

TEST(Engine, AnExternalStepDropsTheSamplesAndTheSourcesStartAgain)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1\n");
	h.run_to(150);
	const NtpSource *s = h.engine->find(ip("192.0.2.1"));
	ASSERT_EQ(h.engine->tracking().selected, std::optional<size_t>(s->index));
	// Someone steps the clock back 100 s; the daemon's loop notices.
	h.clock.offset_s -= 100;
	h.engine->on_external_step(-100);
	EXPECT_EQ(h.log.count_with("Backward time jump detected!"), 1u);
	EXPECT_EQ(h.engine->source_set().stats(s->index).size(), 0u);
	EXPECT_FALSE(h.engine->tracking().selected.has_value());
	// Three new samples (a poll of 64 s each) and the 100 s are corrected:
	// slewed at the maximum rate from about 200 s on.
	h.run_to(150 + 3 * 66 + 5);
	EXPECT_EQ(h.engine->tracking().selected, std::optional<size_t>(s->index));
	EXPECT_LT(h.clock.error_s(), -90);
	h.run_to(150 + 3 * 66 + 1300);
	EXPECT_LT(std::abs(h.clock.error_s()), 1e-3);
}

TEST(Engine, AddAndRemoveAtRunTime)
{
	Harness h;
	h.servers[ip("192.0.2.1")] = {};
	h.servers[ip("192.0.2.2")] = {};
	h.start("server 192.0.2.1 minpoll 4 maxpoll 4\n");
	h.run_to(100);
	conf::SourceConfig c;
	c.host = "192.0.2.2";
	c.minpoll_log2 = 4;
	c.maxpoll_log2 = 4;
	EXPECT_EQ(h.engine->add(c), AddResult::Added);
	EXPECT_EQ(h.engine->add(c), AddResult::AlreadyKnown);
	h.run_to(200);
	EXPECT_FALSE(h.sends_to(ip("192.0.2.2")).empty());
	EXPECT_EQ(h.engine->entry_count(), 2u);
	EXPECT_TRUE(h.engine->remove(ip("192.0.2.1")));
	EXPECT_FALSE(h.engine->remove(ip("192.0.2.1")));
	size_t before = h.sends_to(ip("192.0.2.1")).size();
	h.run_to(400);
	EXPECT_EQ(h.sends_to(ip("192.0.2.1")).size(), before);  // no more polls
	EXPECT_EQ(h.engine->entry_count(), 1u);
	EXPECT_EQ(h.engine->ntp_at(0)->address, ip("192.0.2.2"));
}


TEST(Engine, AtTheStartASourceWhoseResponseIsOnItsWayIsWaitedFor)
{
	// Three servers polled in step, 0.2 s apart; round trips of 1 s, 1 s
	// and 1.5 s. When the first two have their third sample, the third's
	// third request is on its way: chronyd's register does not count that
	// poll yet, so the selection waits for it instead of choosing among
	// the two.
	Harness h;
	h.servers[ip("192.0.2.1")] = {.delay_s = 1.0};
	h.servers[ip("192.0.2.2")] = {.delay_s = 1.0};
	h.servers[ip("192.0.2.3")] = {.delay_s = 1.5};
	h.start("server 192.0.2.1\nserver 192.0.2.2\nserver 192.0.2.3\n");
	std::optional<size_t> slow_samples_at_selection;
	for (double t = 0; t < 400 && !slow_samples_at_selection; t += 0.01) {
		h.run_to(t);
		if (h.engine->tracking().selected) {
			slow_samples_at_selection = h.engine->source_set().stats(2).size();
		}
	}
	ASSERT_TRUE(slow_samples_at_selection.has_value());
	EXPECT_GE(*slow_samples_at_selection, 3u);
}

std::shared_ptr<const ntp::KeyStore> keys(const char *text)
{
	auto parsed = ntp::parse_keyfile(text);
	EXPECT_TRUE(parsed.ok());
	return parsed.keys;
}

TEST(EngineAuth, ASourceWithNtsIsRefusedAtStartNeverPolled)
{
	for (bool with_keyfile : {false, true}) {
		Harness h;
		strata::testing::FakeFileReader files;
		auto loaded = conf::load_text(files, "server 192.0.2.2\nserver 192.0.2.1 nts\n", "test.conf");
		EngineSettings settings;
		if (with_keyfile) {
			settings.keys = keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n");
		}
		auto started = Engine::start(loaded.config, settings,
					     {.scheduler = h, .clock = h.clock, .io = h, .log = h.log, .reference = h.reference});
		ASSERT_FALSE(started.has_value());
		EXPECT_NE(started.error().context.find("refusing to use the source unauthenticated"), std::string::npos)
			<< started.error().context;
		EXPECT_TRUE(h.sent.empty());
	}
}

TEST(EngineAuth, ASourceWhoseKeyIsMissingSendsNothingUntilRekeyLoadsIt)
{
	// chronyd's behaviour (105-ntpauth runs a client with `key N` and no
	// keyfile): the source is there, never polled unauthenticated.
	for (const char *line : {"server 192.0.2.1 minpoll 4 key 7\n", "peer 192.0.2.1 minpoll 4 key 7\n"}) {
		for (bool with_keyfile : {false, true}) {
			Harness h;
			const char *text = "7 SHA1 HEX:00112233445566778899AABBCCDDEEFF00112233\n";
			h.server_keys = keys(text);
			h.servers[ip("192.0.2.1")] = {};
			h.start(line, {.keys = with_keyfile ? keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n") : nullptr});
			h.run_to(300);
			EXPECT_TRUE(h.sent.empty()) << line;
			ASSERT_EQ(h.engine->ntp_sources().size(), 1u);
			const NtpSource &s = *h.engine->ntp_sources()[0];
			EXPECT_TRUE(s.client.authenticated());
			EXPECT_TRUE(s.client.key_missing());
			EXPECT_GE(s.polls, 8u);  // polled (and counted as lost), nothing sent
			EXPECT_EQ(h.log.count_with("Source 192.0.2.1: key 7 is not in the keyfile; no request sent"), 1u);
			// rekey: the key comes; requests go out signed with it, and the
			// source synchronises.
			h.engine->set_keys(keys(text));
			EXPECT_EQ(h.log.count_with("Source 192.0.2.1: key 7 loaded; requests resume"), 1u);
			h.run_to(1200);
			ASSERT_FALSE(h.sent.empty()) << line;
			EXPECT_GT(h.engine->ntp_sources()[0]->total_good, 3u) << line;
			// The key goes again: nothing more is sent.
			h.engine->set_keys(keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n"));
			EXPECT_EQ(h.log.count_with("Source 192.0.2.1: key 7 is no longer in the keyfile"), 1u);
			size_t sent = h.sent.size();
			h.run_to(1800);
			EXPECT_EQ(h.sent.size(), sent) << line;
		}
	}
}

TEST(EngineAuth, AnAddedSourceWithAMissingKeySendsNothing)
{
	Harness h;
	h.start("", {.keys = keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n")});
	conf::SourceConfig c;
	c.host = "192.0.2.9";
	c.key = 2;
	EXPECT_EQ(h.engine->add(c), AddResult::Added);
	c.host = "192.0.2.10";
	c.key = 1;
	EXPECT_EQ(h.engine->add(c), AddResult::Added);
	h.run_to(10);
	EXPECT_EQ(h.sends_to(ip("192.0.2.9")).size(), 0u);
	EXPECT_EQ(h.sends_to(ip("192.0.2.10")).size(), 1u);
	c.nts = true;
	c.host = "192.0.2.11";
	EXPECT_EQ(h.engine->add(c), AddResult::Failed);
}

TEST(EngineAuth, ACryptoNakIsCountedAndNeverUsed)
{
	// The server has key 1 with another secret: it answers every request
	// with a crypto-NAK, which the client counts and logs once.
	Harness h;
	h.server_keys = keys("1 MD5 HEX:FFEEDDCCBBAA99887766554433221100\n");
	h.servers[ip("192.0.2.1")] = {};
	h.start("server 192.0.2.1 minpoll 4 key 1\n", {.keys = keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n")});
	h.run_to(600);
	const NtpSource &s = *h.engine->ntp_sources()[0];
	EXPECT_GT(s.crypto_naks, 10u);
	EXPECT_EQ(s.crypto_naks, s.total_rx);
	EXPECT_EQ(s.total_valid, 0u);
	EXPECT_EQ(s.client.reach(), 0);
	EXPECT_EQ(h.clock.synced_updates, 0);
	EXPECT_EQ(h.log.count_with("Source 192.0.2.1: crypto-NAK received"), 1u);
	// The right key: the NAKs stop and the source is used.
	h.server_keys = keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n");
	h.run_to(1800);
	EXPECT_GT(h.clock.synced_updates, 3);
}

TEST(EngineAuth, AKeyedSourceSynchronisesWithItsKeyAndIsMarkedAuthenticated)
{
	const char *text = "1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n"
			   "2 SHA512 HEX:00112233445566778899AABBCCDDEEFF\n"
			   "3 AES128 HEX:00112233445566778899AABBCCDDEEFF\n";
	for (const char *conf : {"server 192.0.2.1 minpoll 4 key 1\n", "server 192.0.2.1 minpoll 4 key 2 version 3\n",
				 "server 192.0.2.1 minpoll 4 key 3\n"}) {
		Harness h;
		h.server_keys = keys(text);
		h.servers[ip("192.0.2.1")] = {};
		h.start(conf, {.keys = keys(text)});
		h.run_to(600);
		EXPECT_GT(h.clock.synced_updates, 3) << conf;
		EXPECT_EQ(h.log.count_with("authentication failed"), 0u);
		ASSERT_EQ(h.engine->ntp_sources().size(), 1u);
		EXPECT_TRUE(h.engine->ntp_sources()[0]->client.authenticated());
		EXPECT_TRUE(h.engine->source_set().info(0).authenticated);
		// chronyc authdata: SK, the key's id, chronyd's type number, bits.
		auto auth = auth_data_report(*h.engine, ip("192.0.2.1"));
		ASSERT_TRUE(auth.has_value());
		EXPECT_EQ(auth->mode, control::AuthMode::Symmetric);
		const auto &key = *h.engine->ntp_sources()[0]->client.key();
		EXPECT_EQ(auth->key_id, key.id());
		EXPECT_EQ(auth->key_type, key.id() == 1 ? 1 : key.id() == 2 ? 5 : 13);  // MD5, SHA512, AES128
		EXPECT_EQ(auth->key_length, 128);
		EXPECT_TRUE(ntp_data_report(*h.engine, ip("192.0.2.1"))->authenticated);
	}
}

TEST(EngineAuth, ResponsesWithoutAValidMacAreNeverUsed)
{
	// The server's key 1 is another secret; then a server that answers
	// without any MAC.
	for (bool ignores : {false, true}) {
		Harness h;
		h.server_keys = keys("1 MD5 HEX:FFEEDDCCBBAA99887766554433221100\n");
		h.servers[ip("192.0.2.1")] = {.ignores_auth = ignores};
		h.start("server 192.0.2.1 minpoll 4 key 1\n", {.keys = keys("1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n")});
		h.run_to(600);
		EXPECT_GT(h.sends_to(ip("192.0.2.1")).size(), 10u);
		EXPECT_EQ(h.clock.synced_updates, 0);
		EXPECT_EQ(h.engine->ntp_sources()[0]->total_good, 0u);
		EXPECT_EQ(h.engine->ntp_sources()[0]->client.reach(), 0);
		if (ignores) {
			EXPECT_GT(h.engine->ntp_sources()[0]->auth_failures, 10u);
			EXPECT_EQ(h.log.count_with("Source 192.0.2.1: authentication failed (key 1)"), 1u);
		} else {
			EXPECT_GT(h.engine->ntp_sources()[0]->crypto_naks, 10u);  // the server's answer to a wrong MAC
		}
	}
}

TEST(EngineAuth, AuthSelectModeRequireNeverSelectsAnUnauthenticatedSource)
{
	const char *text = "1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n";
	for (const char *mode : {"require", "ignore"}) {
		Harness h;
		h.servers[ip("192.0.2.1")] = {};
		h.start(std::string("server 192.0.2.1 minpoll 4\nauthselectmode ") + mode + "\n", {.keys = keys(text)});
		h.run_to(600);
		if (std::string(mode) == "require") {
			EXPECT_EQ(h.clock.synced_updates, 0);
			EXPECT_GT(h.engine->source_set().stats(0).size(), 3u);  // measured, never selected
		} else {
			EXPECT_GT(h.clock.synced_updates, 3);
		}
	}
}

TEST(EngineAuth, KeyfileAndSourceProblemsComeWithFileAndLine)
{
	strata::testing::FakeFileReader files;
	files.add("/etc/chrony/chrony.keys", "# keys\n1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n2 SHA1 HEX:0\n3 AES128 x\n");
	auto keyfile = load_keyfile(files, "/etc/chrony/chrony.keys");
	EXPECT_FALSE(keyfile.ok());
	ASSERT_EQ(keyfile.diagnostics.size(), 2u);
	EXPECT_EQ(keyfile.diagnostics[0].to_string().rfind("/etc/chrony/chrony.keys:3: ", 0), 0u)
		<< keyfile.diagnostics[0].to_string();
	EXPECT_EQ(keyfile.diagnostics[1].line, 4);
	EXPECT_NE(keyfile.keys->find(1), nullptr);
	auto missing = load_keyfile(files, "/nowhere.keys");
	EXPECT_FALSE(missing.ok());
	EXPECT_NE(missing.diagnostics.at(0).message.find("could not read keyfile"), std::string::npos);

	auto loaded = conf::load_text(files, "server 192.0.2.1 key 1\nserver 192.0.2.2 key 2\npool p.example nts\n",
				      "c.conf");
	// A missing key is a warning (the source sends nothing until it is
	// loaded), nts an error.
	auto problems = check_config_auth(loaded.config, keyfile.keys.get());
	ASSERT_EQ(problems.size(), 2u);
	EXPECT_EQ(problems[0].to_string().rfind("c.conf:2: warning: Source 192.0.2.2: key 2 is not in the keyfile", 0), 0u)
		<< problems[0].to_string();
	EXPECT_EQ(problems[0].severity, conf::Diagnostic::Severity::Warning);
	EXPECT_EQ(problems[1].line, 3);
	EXPECT_EQ(problems[1].severity, conf::Diagnostic::Severity::Error);
	auto without = check_config_auth(loaded.config, nullptr);
	ASSERT_EQ(without.size(), 3u);
	EXPECT_NE(without[0].message.find("key 1 given but no keyfile configured"), std::string::npos);
}

TEST(EngineAuth, WithoutVersionAKeyLongerThanNtpv4CarriesIsUsedWithNtpv3)
{
	// chronyd's NAU_GetSuggestedNtpVersion: a SHA512 MAC would be cut to
	// 20 bytes in NTPv4, so NTPv3 carries it whole; MD5 fits NTPv4.
	const char *text = "1 MD5 HEX:00112233445566778899AABBCCDDEEFF\n"
			   "2 SHA512 HEX:00112233445566778899AABBCCDDEEFF\n";
	struct Case {
		const char *conf;
		int version;
	};
	for (const Case &c : {Case{"server 192.0.2.1 minpoll 4 key 1\n", 4}, Case{"server 192.0.2.1 minpoll 4 key 2\n", 3},
			      Case{"server 192.0.2.1 minpoll 4 key 2 version 4\n", 4}, Case{"server 192.0.2.1 minpoll 4\n", 4}}) {
		Harness h;
		h.server_keys = keys(text);
		h.servers[ip("192.0.2.1")] = {};
		h.start(c.conf, {.keys = keys(text)});
		h.run_to(100);
		auto data = ntp_data_report(*h.engine, ip("192.0.2.1"));
		ASSERT_TRUE(data.has_value());
		EXPECT_EQ(data->version, c.version) << c.conf;
		EXPECT_GT(h.engine->ntp_sources()[0]->total_good, 0u) << c.conf;
	}
}

} // namespace
} // namespace strata::sources
