// chrony's command-and-monitoring protocol ("cmdmon"), as chronyc 4.3 and
// chronyd 4.3 speak it over UDP port 323 or the Unix datagram socket:
// protocol version 6, big-endian fields at fixed offsets, one request and
// one reply per datagram. Pure: bytes in, plain values out, and back, for
// both sides, so that the daemon's control server and stratactl share one
// codec and one table of commands.
//
// The shape of the exchange, which every function here follows:
// - A request is a 20-byte header (version, packet type 1, two reserved
//   bytes, command, attempt, sequence, 8 reserved bytes) and the command's
//   arguments, then zero padding up to the length of the reply the command
//   expects. The padding is what keeps the protocol from amplifying
//   traffic: a server never sends a reply longer than the request it
//   answers, so a forged source address gains an attacker nothing.
// - A reply is a 28-byte header (version, packet type 2, reserved, the
//   request's command, the reply type, a status, padding, the request's
//   sequence) and the report the reply type names.
// - Real numbers travel in chrony's 32-bit "Float" (see encode_float),
//   absolute times as three 32-bit words (seconds high, seconds low,
//   nanoseconds), addresses as 16 bytes plus a 16-bit family.
// - Commands that change anything are accepted by chronyd only on the Unix
//   socket; over the network it answers "not authorised" to all but a few
//   reports (is_permitted).
//
// Each request's arguments and each reply's report is described once, in
// a fields() function after its struct (control/fields.h): its fields in
// wire order, each with its wire type, its JSON key and form and, for the
// reports chronyc prints one line per field, its text line. The codec
// here, the JSON forms (control/fields_json.h) and those text reports
// (control/report_format.h) are generic over the descriptions; adding a
// field is adding its member and its line there.
//
// Lengths, codes and layouts were learnt from chrony 4.3's candm.h,
// pktlength.c, cmdmon.c, client.c and util.c; the code is our own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/fields.h"
#include "core/address.h"
#include "core/reference.h"
#include "core/result.h"
#include "core/time.h"

namespace strata::control {

/// The protocol version chronyc 4.3 sends and expects (chrony's
/// PROTO_VERSION_NUMBER); the only one we serve.
inline constexpr uint8_t kProtocolVersion = 6;
/// Requests of this version or newer get a "bad version" reply; older ones,
/// which could not read it, get nothing (chronyd's rule).
inline constexpr uint8_t kOldestVersionAnswered = 5;
/// The UDP port chronyc talks to by default.
inline constexpr uint16_t kDefaultPort = 323;

inline constexpr size_t kRequestHeaderLength = 20;
inline constexpr size_t kReplyHeaderLength = 28;
/// Shorter datagrams are dropped: even an error reply (a bare reply header)
/// would be longer than they are.
inline constexpr size_t kMinRequestLength = kReplyHeaderLength;
/// The largest request chronyd reads (its buffer): the header, the largest
/// arguments (ADD_SOURCE, 352 bytes, and a 4-byte end-of-record word) and
/// the largest padding (484 bytes). Longer datagrams are dropped.
inline constexpr size_t kMaxRequestLength = 860;
/// The largest reply chronyd 4.3 sends (CLIENT_ACCESSES_BY_INDEX3).
inline constexpr size_t kMaxReplyLength = 520;
/// Clients in one CLIENT_ACCESSES_BY_INDEX3 reply; chronyc asks for this many.
inline constexpr size_t kMaxClientsPerReply = 8;
/// Samples in a MANUAL_LIST2 reply.
inline constexpr size_t kMaxManualSamples = 16;
/// Bytes of a source name on the wire; the last must be NUL, so names are
/// at most 255 characters.
inline constexpr size_t kNameFieldLength = 256;

/// Request codes (chrony's REQ_*). Gaps in what chronyd 4.3 accepts are
/// codes of older protocol revisions (see request_length()).
enum class Command : uint16_t {
	Null = 0,
	Online = 1,
	Offline = 2,
	Burst = 3,
	ModifyMinpoll = 4,
	ModifyMaxpoll = 5,
	Dump = 6,
	ModifyMaxdelay = 7,
	ModifyMaxdelayratio = 8,
	ModifyMaxupdateskew = 9,
	Logon = 10,
	Settime = 11,
	Local = 12,  ///< obsolete: chronyc 4.3 sends Local2
	Manual = 13,
	NSources = 14,
	SourceData = 15,
	Rekey = 16,
	Allow = 17,
	AllowAll = 18,
	Deny = 19,
	DenyAll = 20,
	CmdAllow = 21,
	CmdAllowAll = 22,
	CmdDeny = 23,
	CmdDenyAll = 24,
	AcCheck = 25,
	CmdAcCheck = 26,
	AddServer = 27,  ///< obsolete: AddSource
	AddPeer = 28,    ///< obsolete: AddSource
	DelSource = 29,
	WriteRtc = 30,
	Dfreq = 31,
	Doffset = 32,  ///< obsolete: Doffset2
	Tracking = 33,
	SourceStats = 34,
	RtcReport = 35,
	TrimRtc = 36,
	CycleLogs = 37,
	SubnetsAccessed = 38,        ///< obsolete
	ClientAccesses = 39,         ///< obsolete
	ClientAccessesByIndex = 40,  ///< obsolete: ClientAccessesByIndex3
	ManualList = 41,
	ManualDelete = 42,
	MakeStep = 43,
	Activity = 44,
	ModifyMinstratum = 45,
	ModifyPolltarget = 46,
	ModifyMaxdelaydevratio = 47,
	Reselect = 48,
	ReselectDistance = 49,
	ModifyMakestep = 50,
	Smoothing = 51,
	SmoothTime = 52,
	Refresh = 53,
	ServerStats = 54,
	ClientAccessesByIndex2 = 55,  ///< obsolete
	Local2 = 56,
	NtpData = 57,
	AddServer2 = 58,  ///< obsolete
	AddPeer2 = 59,    ///< obsolete
	AddServer3 = 60,  ///< obsolete
	AddPeer3 = 61,    ///< obsolete
	Shutdown = 62,
	OnOffline = 63,
	AddSource = 64,
	NtpSourceName = 65,
	ResetSources = 66,
	AuthData = 67,
	ClientAccessesByIndex3 = 68,
	SelectData = 69,
	ReloadSources = 70,
	Doffset2 = 71,
};
/// Codes at or above this are unknown to chronyd 4.3.
inline constexpr uint16_t kCommandCount = 72;

/// Reply codes (chrony's RPY_*): which report follows the reply header.
enum class ReplyType : uint16_t {
	Null = 1,
	NSources = 2,
	SourceData = 3,
	ManualTimestamp = 4,  ///< obsolete
	Tracking = 5,
	SourceStats = 6,
	Rtc = 7,
	SubnetsAccessed = 8,        ///< obsolete
	ClientAccesses = 9,         ///< obsolete
	ClientAccessesByIndex = 10, ///< obsolete
	ManualList = 11,            ///< obsolete
	Activity = 12,
	Smoothing = 13,
	ServerStats = 14,  ///< obsolete
	ClientAccessesByIndex2 = 15,  ///< obsolete
	NtpData = 16,
	ManualTimestamp2 = 17,
	ManualList2 = 18,
	NtpSourceName = 19,
	AuthData = 20,
	ClientAccessesByIndex3 = 21,
	ServerStats2 = 22,  ///< obsolete
	SelectData = 23,
	ServerStats3 = 24,  ///< the server statistics chronyc 4.3 asks for
};

/// Outcome of a request (chrony's STT_*). chronyc prints each as a numbered
/// line (status_text()).
enum class Status : uint16_t {
	Success = 0,
	Failed = 1,
	Unauth = 2,  ///< a command refused over the network
	Invalid = 3,
	NoSuchSource = 4,
	InvalidTs = 5,
	NotEnabled = 6,
	BadSubnet = 7,
	AccessAllowed = 8,
	AccessDenied = 9,
	NoHostAccess = 10,  ///< deprecated
	SourceAlreadyKnown = 11,
	TooManySources = 12,
	NoRtc = 13,
	BadRtcFile = 14,
	Inactive = 15,
	BadSample = 16,
	InvalidAf = 17,
	BadPktVersion = 18,
	BadPktLength = 19,
	InvalidName = 21,
};

/// The line chronyc prints for a status ("200 OK", "501 Not authorised", …);
/// stratactl prints the same so that scripts keep working.
std::string_view status_text(Status status);

/// chrony's name of a command without the REQ_ prefix ("TRACKING"), for log
/// lines; "unknown" outside the table.
std::string_view command_name(uint16_t command);

// --- Values on the wire ---------------------------------------------------

/// chrony's 32-bit real number: a 7-bit signed exponent e (top bits) and a
/// 25-bit two's-complement coefficient c, worth c · 2^(e − 25). Rounds to
/// the nearest representable value (ties away from zero): 24 significant
/// bits (relative error ≤ 2^-24) for magnitudes from 2^-66 to 4.6·10^18,
/// fewer below, down to steps of 2^-89; larger magnitudes saturate, smaller
/// ones and NaN become 0. Negative powers of two use the coefficient −2^24,
/// as chronyd's encoder does.
uint32_t encode_float(double value);
/// The exact value of any 32-bit pattern.
double decode_float(uint32_t bits);

/// An absolute time: seconds since 1970 as high and low 32-bit words, then
/// nanoseconds. 64-bit seconds, so 2038 is an ordinary date.
void encode_timespec(RealTime t, std::span<std::byte, 12> out);
/// The inverse; a high word of 0x7fffffff (what a 32-bit time_t sender puts
/// there) means 0, nanoseconds above 999999999 are clamped, and seconds
/// beyond what RealTime holds (±292 years) saturate.
RealTime decode_timespec(std::span<const std::byte, 12> in);

/// No address: a reference clock in reports, "every source" in commands
/// that take a mask and an address.
struct NoAddress {
	friend bool operator==(NoAddress, NoAddress) = default;
};
/// The number chronyd gives a source whose name is not resolved yet;
/// chronyc hides such sources unless asked for all.
struct AddressId {
	uint32_t id = 0;
	friend bool operator==(AddressId, AddressId) = default;
};
/// An address as cmdmon carries it: 16 bytes (IPv4 in the first 4) and a
/// family (0 none, 1 IPv4, 2 IPv6, 3 id), 20 bytes in all.
using Address = std::variant<NoAddress, IpAddress, AddressId>;

void encode_address(const Address &address, std::span<std::byte, 20> out);
/// An unknown family reads as NoAddress, as chronyd reads it.
Address decode_address(std::span<const std::byte, 20> in);

// --- Requests -------------------------------------------------------------

/// Arguments of commands that have none (and of DUMP, whose 4 bytes are
/// unused).
struct NoArgs {
	friend bool operator==(const NoArgs &, const NoArgs &) = default;
};

template <class V>
constexpr void fields(V &, Of<NoArgs>)
{
}

/// SOURCE_DATA, SOURCESTATS, SELECT_DATA: the index of a source, 0 … N_SOURCES − 1.
struct IndexArgs {
	uint32_t index = 0;
	friend bool operator==(const IndexArgs &, const IndexArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<IndexArgs>)
{
	using R = IndexArgs;
	v(&R::index, wire::u32, "index");
}

/// ONLINE, OFFLINE: the sources whose address matches `address` under
/// `mask` (both NoAddress: every source).
struct MaskArgs {
	Address mask;
	Address address;
	friend bool operator==(const MaskArgs &, const MaskArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<MaskArgs>)
{
	using R = MaskArgs;
	v(&R::mask, wire::address, "mask");
	v(&R::address, wire::address, "address");
}

/// BURST: `n_good` good samples out of at most `n_total` requests.
struct BurstArgs {
	Address mask;
	Address address;
	int32_t n_good = 0;
	int32_t n_total = 0;
	friend bool operator==(const BurstArgs &, const BurstArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<BurstArgs>)
{
	using R = BurstArgs;
	v(&R::mask, wire::address, "mask");
	v(&R::address, wire::address, "address");
	v(&R::n_good, wire::i32, "good");
	v(&R::n_total, wire::i32, "total");
}

/// MODIFY_MINPOLL, MAXPOLL (log2 s), MINSTRATUM, POLLTARGET for one source.
struct AddressIntArgs {
	Address address;
	int32_t value = 0;
	friend bool operator==(const AddressIntArgs &, const AddressIntArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<AddressIntArgs>)
{
	using R = AddressIntArgs;
	v(&R::address, wire::address, "address");
	v(&R::value, wire::i32, "value");
}

/// MODIFY_MAXDELAY (s), MAXDELAYRATIO, MAXDELAYDEVRATIO for one source.
struct AddressFloatArgs {
	Address address;
	double value = 0;
	friend bool operator==(const AddressFloatArgs &, const AddressFloatArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<AddressFloatArgs>)
{
	using R = AddressFloatArgs;
	v(&R::address, wire::address, "address");
	v(&R::value, wire::real, "value");
}

/// MODIFY_MAXUPDATESKEW (ppm), DFREQ (ppm), DOFFSET2 (s), RESELECTDISTANCE (s).
struct FloatArgs {
	double value = 0;
	friend bool operator==(const FloatArgs &, const FloatArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<FloatArgs>)
{
	using R = FloatArgs;
	v(&R::value, wire::real, "value");
}

/// MANUAL (0 off, 1 on, 2 reset), SMOOTHTIME (0 reset, 1 activate),
/// MANUAL_DELETE (a sample index).
struct IntArgs {
	int32_t value = 0;
	friend bool operator==(const IntArgs &, const IntArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<IntArgs>)
{
	using R = IntArgs;
	v(&R::value, wire::i32, "value");
}

/// MODIFY_MAKESTEP: step when the offset exceeds `threshold_s`, in the
/// first `limit` updates (−1: always).
struct MakestepArgs {
	int32_t limit = 0;
	double threshold_s = 0;
	friend bool operator==(const MakestepArgs &, const MakestepArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<MakestepArgs>)
{
	using R = MakestepArgs;
	v(&R::limit, wire::i32, "limit");
	v(&R::threshold_s, wire::real, "threshold_s");
}

/// SETTIME (the time the user typed), LOGON (obsolete).
struct TimeArgs {
	RealTime time;
	friend bool operator==(const TimeArgs &, const TimeArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<TimeArgs>)
{
	using R = TimeArgs;
	v(&R::time, wire::timespec, "time");
}

/// LOCAL2: `local stratum N distance D orphan`, or `local off` (on = false).
struct LocalArgs {
	bool on = false;
	int32_t stratum = 0;
	double distance_s = 0;
	bool orphan = false;
	friend bool operator==(const LocalArgs &, const LocalArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<LocalArgs>)
{
	using R = LocalArgs;
	v(&R::on, wire::i32, "on");
	v(&R::stratum, wire::i32, "stratum");
	v(&R::distance_s, wire::real, "distance_s");
	v(&R::orphan, wire::i32, "orphan");
}

/// ALLOW, DENY, CMDALLOW, CMDDENY and their -ALL forms: a subnet
/// (NoAddress with 0 bits: everything).
struct SubnetArgs {
	Address address;
	int32_t prefix_bits = 0;
	friend bool operator==(const SubnetArgs &, const SubnetArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SubnetArgs>)
{
	using R = SubnetArgs;
	v(&R::address, wire::address, "address");
	v(&R::prefix_bits, wire::i32, "prefix_bits");
}

/// ACCHECK, CMDACCHECK, DEL_SOURCE, NTP_DATA, NTP_SOURCE_NAME, AUTH_DATA.
struct AddressArgs {
	Address address;
	friend bool operator==(const AddressArgs &, const AddressArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<AddressArgs>)
{
	using R = AddressArgs;
	v(&R::address, wire::address, "address");
}

/// CLIENT_ACCESSES_BY_INDEX3: up to `n_clients` records from `first_index`
/// with at least `min_hits` hits; `reset` zeroes the counters after reading.
struct ClientAccessesArgs {
	uint32_t first_index = 0;
	uint32_t n_clients = 0;
	uint32_t min_hits = 0;
	bool reset = false;
	friend bool operator==(const ClientAccessesArgs &, const ClientAccessesArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ClientAccessesArgs>)
{
	using R = ClientAccessesArgs;
	v(&R::first_index, wire::u32, "first_index");
	v(&R::n_clients, wire::u32, "n_clients");
	v(&R::min_hits, wire::u32, "min_hits");
	v(&R::reset, wire::u32, "reset");
}

/// ADD_SOURCE kinds.
enum class SourceKind : uint32_t { Server = 1, Peer = 2, Pool = 3 };
inline constexpr as::Names<SourceKind, 3> kSourceKindNames{
	{{{SourceKind::Server, "server"}, {SourceKind::Peer, "peer"}, {SourceKind::Pool, "pool"}}},
	"unknown"};
/// ADD_SOURCE flag bits (chrony's REQ_ADDSRC_*).
inline constexpr uint32_t kAddOnline = 0x1;
inline constexpr uint32_t kAddAutoOffline = 0x2;
inline constexpr uint32_t kAddIburst = 0x4;
inline constexpr uint32_t kAddPrefer = 0x8;
inline constexpr uint32_t kAddNoselect = 0x10;
inline constexpr uint32_t kAddTrust = 0x20;
inline constexpr uint32_t kAddRequire = 0x40;
inline constexpr uint32_t kAddInterleaved = 0x80;
inline constexpr uint32_t kAddBurst = 0x100;
inline constexpr uint32_t kAddNts = 0x200;
inline constexpr uint32_t kAddCopy = 0x400;
inline constexpr uint32_t kAddExtField1 = 0x800;

/// ADD_SOURCE: `add server|peer|pool NAME [options]` with every option
/// filled in by chronyc (its defaults where the user gave none).
struct AddSourceArgs {
	SourceKind kind = SourceKind::Server;
	std::string name;  ///< host name or address, at most 255 characters, no NUL
	uint32_t port = 0;
	int32_t minpoll = 0;
	int32_t maxpoll = 0;
	int32_t presend_minpoll = 0;
	uint32_t min_stratum = 0;
	uint32_t poll_target = 0;
	uint32_t version = 0;
	uint32_t max_sources = 0;
	int32_t min_samples = 0;
	int32_t max_samples = 0;
	uint32_t authkey = 0;
	uint32_t nts_port = 0;
	double max_delay_s = 0;
	double max_delay_ratio = 0;
	double max_delay_dev_ratio = 0;
	double min_delay_s = 0;
	double asymmetry = 0;
	double offset_s = 0;
	uint32_t flags = 0;  ///< kAdd* bits
	int32_t filter_length = 0;
	uint32_t cert_set = 0;
	double max_delay_quant_s = 0;
	friend bool operator==(const AddSourceArgs &, const AddSourceArgs &) = default;
};

template <class V>
constexpr void fields(V &v, Of<AddSourceArgs>)
{
	using R = AddSourceArgs;
	// chronyd answers an unknown kind "invalid", before it looks at the name.
	v(&R::kind, wire::u32.within(1, 3), "kind", kSourceKindNames);
	v(&R::name, wire::name, "name");
	v(&R::port, wire::u32, "port");
	v(&R::minpoll, wire::i32, "minpoll");
	v(&R::maxpoll, wire::i32, "maxpoll");
	v(&R::presend_minpoll, wire::i32, "presend_minpoll");
	v(&R::min_stratum, wire::u32, "min_stratum");
	v(&R::poll_target, wire::u32, "poll_target");
	v(&R::version, wire::u32, "version");
	v(&R::max_sources, wire::u32, "max_sources");
	v(&R::min_samples, wire::i32, "min_samples");
	v(&R::max_samples, wire::i32, "max_samples");
	v(&R::authkey, wire::u32, "key");
	v(&R::nts_port, wire::u32, "nts_port");
	v(&R::max_delay_s, wire::real, "max_delay_s");
	v(&R::max_delay_ratio, wire::real, "max_delay_ratio");
	v(&R::max_delay_dev_ratio, wire::real, "max_delay_dev_ratio");
	v(&R::min_delay_s, wire::real, "min_delay_s");
	v(&R::asymmetry, wire::real, "asymmetry");
	v(&R::offset_s, wire::real, "offset_s");
	v(&R::flags, wire::u32, "flags");
	v(&R::filter_length, wire::i32, "filter_length");
	v(&R::cert_set, wire::u32, "cert_set");
	v(&R::max_delay_quant_s, wire::real, "max_delay_quant_s");
	v.fill(4);  // reserved
}

/// A command's arguments; which alternative a command takes is fixed
/// (args_of()).
using RequestArgs = std::variant<NoArgs, IndexArgs, MaskArgs, BurstArgs, AddressIntArgs,
				 AddressFloatArgs, FloatArgs, IntArgs, MakestepArgs, TimeArgs,
				 LocalArgs, SubnetArgs, AddressArgs, ClientAccessesArgs,
				 AddSourceArgs>;

struct Request {
	Command command = Command::Null;
	uint16_t attempt = 0;    ///< resends of this sequence number so far (informational)
	uint32_t sequence = 0;   ///< chosen by the client (chronyc: random), echoed in the reply
	RequestArgs args;
	friend bool operator==(const Request &, const Request &) = default;
};

/// A datagram that is not served: either answered with an error status, or
/// not answered at all.
struct Rejection {
	/// The error reply's status (BadPktVersion, Invalid, BadPktLength,
	/// InvalidName); nullopt: chronyd sends nothing (too short or too long
	/// a datagram, not a request, a protocol older than version 5).
	std::optional<Status> status;
	uint16_t command = 0;    ///< as received, echoed in the error reply
	uint32_t sequence = 0;   ///< as received, echoed in the error reply
	std::string_view reason; ///< for a debug log line
	friend bool operator==(const Rejection &, const Rejection &) = default;
};

/// Checks and decodes a request datagram, in chronyd's order: length
/// (28…860 bytes), packet type and reserved bytes, version, command (known
/// to chronyd 4.3), length for that command including its padding (longer
/// is accepted), then the arguments (ADD_SOURCE: a known kind, a
/// NUL-terminated name). A Rejection says whether and how to answer. Who may
/// run the command is the caller's check (is_permitted).
std::variant<Request, Rejection> parse_request(std::span<const std::byte> datagram);

/// The request datagram, padded with zeros to request_length(command).
/// Errors (Errc::InvalidArgument): a command chronyd 4.3 does not accept,
/// arguments of another command's kind, an AddSource name of 256 bytes or
/// more or with a NUL in it. Used by stratactl.
Result<std::vector<std::byte>> encode_request(const Request &request);

/// Which RequestArgs alternative (its index) a command takes.
size_t args_of(Command command);

/// Length of a request for `command` with its padding (what chronyc sends),
/// or 0 for codes chronyd 4.3 does not accept.
size_t request_length(Command command);

/// The reply type a successful `command` gets (ReplyType::Null for commands
/// that only report a status).
ReplyType expected_reply(Command command);

/// Whether `command` leaves the daemon's state as it was. CLIENT_ACCESSES
/// with `reset` and everything that adds, removes, steers, writes or
/// reconfigures is not.
bool is_read_only(const Request &request);

/// Where a request came from: the Unix socket (root and the daemon's user
/// only) or UDP.
enum class Transport { Unix, Network };

/// chronyd's rule: everything over the Unix socket; over the network only
/// NULL, N_SOURCES, SOURCE_DATA, TRACKING, SOURCESTATS, RTCREPORT,
/// MANUAL_LIST, ACTIVITY, SMOOTHING, NTP_SOURCE_NAME and the obsolete LOGON.
/// Some read-only reports (SERVER_STATS, NTP_DATA, SELECT_DATA, AUTH_DATA,
/// CLIENT_ACCESSES) are Unix-only too: they reveal more about the host and
/// its clients than `sources` does. A refused request gets Status::Unauth.
bool is_permitted(Command command, Transport transport);

// --- Replies --------------------------------------------------------------
//
// Each report's description (control/fields.h) follows it: its wire layout,
// its JSON keys (docs/control.md lists them) and, for the reports chronyc
// prints one line per field, those lines.

/// The words the JSON reports (and the metrics' labels) use for the leap
/// status.
inline constexpr as::Names<Leap, 4> kLeapNames{{{{Leap::None, "normal"},
						 {Leap::Insert, "insert_second"},
						 {Leap::Delete, "delete_second"},
						 {Leap::Unsynchronized, "unsynchronised"}}},
					       "invalid"};

/// RPY_NULL: the status alone.
struct NullReport {
	friend bool operator==(const NullReport &, const NullReport &) = default;
};

template <class V>
constexpr void fields(V &, Of<NullReport>)
{
}

struct NSourcesReport {
	uint32_t n_sources = 0;
	friend bool operator==(const NSourcesReport &, const NSourcesReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<NSourcesReport>)
{
	v(&NSourcesReport::n_sources, wire::u32, "count");
}

enum class SourceMode : uint16_t { Client = 0, Peer = 1, RefClock = 2 };
inline constexpr as::Names<SourceMode, 3> kSourceModeNames{{{{SourceMode::Client, "server"},
							      {SourceMode::Peer, "peer"},
							      {SourceMode::RefClock, "refclock"}}},
							    "unknown"};

/// The selection state chronyc draws as * + - x ~ ?. chrony's names are
/// easy to misread: "unselected" sources are combined with the selected
/// one, "selectable" ones are usable but left out.
enum class SourceState : uint16_t {
	Selected = 0,       ///< '*' the reference
	NonSelectable = 1,  ///< '?' unusable
	Falseticker = 2,    ///< 'x'
	Jittery = 3,        ///< '~' too variable
	Unselected = 4,     ///< '+' combined
	Selectable = 5,     ///< '-' not combined
};
inline constexpr as::Names<SourceState, 6> kSourceStateNames{
	{{{SourceState::Selected, "selected"},
	  {SourceState::NonSelectable, "unusable"},
	  {SourceState::Falseticker, "falseticker"},
	  {SourceState::Jittery, "jittery"},
	  {SourceState::Unselected, "combined"},
	  {SourceState::Selectable, "not_combined"}}},
	"unknown"};

/// One line of `chronyc sources`.
struct SourceDataReport {
	/// A reference clock's ref id as an IPv4 address, as chronyd sends it
	/// (chronyc prints it as text, "PPS"); an AddressId while unresolved.
	Address address;
	int16_t poll = 0;     ///< log2 s
	uint16_t stratum = 0;
	SourceState state = SourceState::NonSelectable;
	SourceMode mode = SourceMode::Client;
	uint16_t flags = 0;   ///< always 0 from chronyd 4.3
	uint16_t reachability = 0;       ///< the 8-bit reach register
	uint32_t since_sample_s = 0;     ///< age of the last sample
	double orig_latest_meas_s = 0;   ///< the last sample's offset as measured
	double latest_meas_s = 0;        ///< … adjusted for clock changes since
	double latest_meas_err_s = 0;    ///< its error bound
	friend bool operator==(const SourceDataReport &, const SourceDataReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SourceDataReport>)
{
	using R = SourceDataReport;
	// A reference clock's address is its id: sources_json() shows it so.
	v(&R::address, wire::address, "address");
	v(&R::poll, wire::i16, "poll_log2");
	v(&R::stratum, wire::u16, "stratum");
	v(&R::state, wire::u16, "state", kSourceStateNames);
	v(&R::mode, wire::u16, "mode", kSourceModeNames);
	v(&R::flags, wire::u16, "");  // always 0
	v(&R::reachability, wire::u16, "reachability");
	v(&R::since_sample_s, wire::u32, "last_sample_ago_s", as::age);
	v(&R::orig_latest_meas_s, wire::real, "measured_offset_s");
	v(&R::latest_meas_s, wire::real, "offset_s");
	v(&R::latest_meas_err_s, wire::real, "error_s");
}

/// `chronyc tracking`. Signs as chronyd's: current_correction_s > 0 means
/// the system clock is behind NTP time (chronyc: "slow of NTP time"), and
/// freq_ppm > 0 that it runs fast (chronyc: "ppm fast").
struct TrackingReport {
	uint32_t ref_id = 0;
	Address address;  ///< NoAddress when the reference is a refclock or local
	uint16_t stratum = 0;
	Leap leap = Leap::None;
	RealTime ref_time;
	double current_correction_s = 0;
	double last_offset_s = 0;
	double rms_offset_s = 0;
	double freq_ppm = 0;
	double resid_freq_ppm = 0;
	double skew_ppm = 0;
	double root_delay_s = 0;
	double root_dispersion_s = 0;
	double last_update_interval_s = 0;
	friend bool operator==(const TrackingReport &, const TrackingReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<TrackingReport>)
{
	using R = TrackingReport;
	v(&R::ref_id, wire::u32, "reference_id", as::hex_id);
	v(&R::address, wire::address, "reference_address");
	v(&R::stratum, wire::u16, "stratum");
	v(&R::leap, wire::u16, "leap", kLeapNames);
	v(&R::ref_time, wire::timespec, "reference_time");
	v(&R::current_correction_s, wire::real, "correction_s");
	v(&R::last_offset_s, wire::real, "last_offset_s");
	v(&R::rms_offset_s, wire::real, "rms_offset_s");
	v(&R::freq_ppm, wire::real, "frequency_ppm");
	v(&R::resid_freq_ppm, wire::real, "residual_frequency_ppm");
	v(&R::skew_ppm, wire::real, "skew_ppm");
	v(&R::root_delay_s, wire::real, "root_delay_s");
	v(&R::root_dispersion_s, wire::real, "root_dispersion_s");
	v(&R::last_update_interval_s, wire::real, "update_interval_s");
}

/// One line of `chronyc sourcestats`.
struct SourceStatsReport {
	uint32_t ref_id = 0;
	Address address;  ///< NoAddress for a reference clock (chronyc shows ref_id)
	uint32_t n_samples = 0;
	uint32_t n_runs = 0;
	uint32_t span_s = 0;
	double sd_s = 0;
	double resid_freq_ppm = 0;
	double skew_ppm = 0;
	double est_offset_s = 0;
	double est_offset_err_s = 0;
	friend bool operator==(const SourceStatsReport &, const SourceStatsReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SourceStatsReport>)
{
	using R = SourceStatsReport;
	// sourcestats_json() keeps the id for reference clocks only.
	v(&R::ref_id, wire::u32, "reference_id", as::hex_id);
	v(&R::address, wire::address, "address");
	v(&R::n_samples, wire::u32, "samples");
	v(&R::n_runs, wire::u32, "runs");
	v(&R::span_s, wire::u32, "span_s");
	v(&R::sd_s, wire::real, "std_dev_s");
	v(&R::resid_freq_ppm, wire::real, "frequency_ppm");
	v(&R::skew_ppm, wire::real, "frequency_skew_ppm");
	v(&R::est_offset_s, wire::real, "offset_s");
	v(&R::est_offset_err_s, wire::real, "");  // chronyc does not show it
}

/// `chronyc rtcdata`.
struct RtcReport {
	RealTime ref_time;
	uint16_t n_samples = 0;
	uint16_t n_runs = 0;
	uint32_t span_s = 0;
	double rtc_seconds_fast = 0;
	double rtc_gain_rate_ppm = 0;
	friend bool operator==(const RtcReport &, const RtcReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<RtcReport>)
{
	using R = RtcReport;
	v(&R::ref_time, wire::timespec, "reference_time",
	  show::line(0, "RTC ref time (UTC) : ", show::date));
	v(&R::n_samples, wire::u16, "samples", show::line(1, "Number of samples  : "));
	v(&R::n_runs, wire::u16, "runs", show::line(2, "Number of runs     : "));
	v(&R::span_s, wire::u32, "span_s", show::line(3, "Sample span period : ", show::interval));
	v(&R::rtc_seconds_fast, wire::real, "rtc_fast_s",
	  show::line(4, "RTC is fast by     : ", show::fixed(6, 12), " seconds\n"));
	v(&R::rtc_gain_rate_ppm, wire::real, "rtc_gain_rate_ppm",
	  show::line(5, "RTC gains time at  : ", show::fixed(3, 9), " ppm\n"));
}

/// `chronyc activity`.
struct ActivityReport {
	int32_t online = 0;
	int32_t offline = 0;
	int32_t burst_online = 0;
	int32_t burst_offline = 0;
	int32_t unresolved = 0;
	friend bool operator==(const ActivityReport &, const ActivityReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ActivityReport>)
{
	using R = ActivityReport;
	v(&R::online, wire::i32, "online",
	  show::line(0, "", show::as_unsigned, " sources online\n"));
	v(&R::offline, wire::i32, "offline",
	  show::line(1, "", show::as_unsigned, " sources offline\n"));
	v(&R::burst_online, wire::i32, "burst_returning_online",
	  show::line(2, "", show::as_unsigned, " sources doing burst (return to online)\n"));
	v(&R::burst_offline, wire::i32, "burst_returning_offline",
	  show::line(3, "", show::as_unsigned, " sources doing burst (return to offline)\n"));
	v(&R::unresolved, wire::i32, "unresolved",
	  show::line(4, "", show::as_unsigned, " sources with unknown address\n"));
}

/// `chronyc smoothing`.
struct SmoothingReport {
	bool active = false;
	bool leap_only = false;
	double offset_s = 0;
	double freq_ppm = 0;
	double wander_ppm = 0;   ///< per second
	double last_update_ago_s = 0;
	double remaining_time_s = 0;
	friend bool operator==(const SmoothingReport &, const SmoothingReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SmoothingReport>)
{
	using R = SmoothingReport;
	v.word(wire::u32, [](auto &bits) {
		bits(&R::active, wire::mask(0x1), "active",
		     show::line(0, "Active         : ", show::yes_no, " "));
		bits(&R::leap_only, wire::mask(0x2), "leap_only",
		     show::line(1, "", show::IfSet{"(leap second only)"}));
	});
	v(&R::offset_s, wire::real, "offset_s",
	  show::line(2, "Offset         : ", show::signed_fixed(9), " seconds\n"));
	v(&R::freq_ppm, wire::real, "frequency_ppm",
	  show::line(3, "Frequency      : ", show::signed_fixed(6), " ppm\n"));
	v(&R::wander_ppm, wire::real, "wander_ppm_per_s",
	  show::line(4, "Wander         : ", show::signed_fixed(6), " ppm per second\n"));
	v(&R::last_update_ago_s, wire::real, "last_update_ago_s",
	  show::line(5, "Last update    : ", show::fixed(1), " seconds ago\n"));
	v(&R::remaining_time_s, wire::real, "remaining_time_s",
	  show::line(6, "Remaining time : ", show::fixed(1), " seconds\n"));
}

/// `chronyc serverstats` (RPY_SERVER_STATS3, 32-bit counters).
struct ServerStatsReport {
	uint32_t ntp_hits = 0;
	uint32_t nke_hits = 0;
	uint32_t cmd_hits = 0;
	uint32_t ntp_drops = 0;
	uint32_t nke_drops = 0;
	uint32_t cmd_drops = 0;
	uint32_t log_drops = 0;
	uint32_t ntp_auth_hits = 0;
	uint32_t ntp_interleaved_hits = 0;
	uint32_t ntp_timestamps = 0;
	uint32_t ntp_span_s = 0;
	friend bool operator==(const ServerStatsReport &, const ServerStatsReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ServerStatsReport>)
{
	using R = ServerStatsReport;
	// chronyc prints the counters in its own order (the lines' numbers).
	v(&R::ntp_hits, wire::u32, "ntp_packets_received",
	  show::line(0, "NTP packets received       : "));
	v(&R::nke_hits, wire::u32, "nts_ke_connections_accepted",
	  show::line(5, "NTS-KE connections accepted: "));
	v(&R::cmd_hits, wire::u32, "command_packets_received",
	  show::line(2, "Command packets received   : "));
	v(&R::ntp_drops, wire::u32, "ntp_packets_dropped",
	  show::line(1, "NTP packets dropped        : "));
	v(&R::nke_drops, wire::u32, "nts_ke_connections_dropped",
	  show::line(6, "NTS-KE connections dropped : "));
	v(&R::cmd_drops, wire::u32, "command_packets_dropped",
	  show::line(3, "Command packets dropped    : "));
	v(&R::log_drops, wire::u32, "client_log_records_dropped",
	  show::line(4, "Client log records dropped : "));
	v(&R::ntp_auth_hits, wire::u32, "authenticated_ntp_packets",
	  show::line(7, "Authenticated NTP packets  : "));
	v(&R::ntp_interleaved_hits, wire::u32, "interleaved_ntp_packets",
	  show::line(8, "Interleaved NTP packets    : "));
	v(&R::ntp_timestamps, wire::u32, "ntp_timestamps_held",
	  show::line(9, "NTP timestamps held        : "));
	v(&R::ntp_span_s, wire::u32, "ntp_timestamp_span_s",
	  show::line(10, "NTP timestamp span         : "));
}

/// One client of `chronyc clients`. Intervals are log2 s (chronyc prints
/// −128 … 127 as given; 127 means "none").
struct ClientAccess {
	Address address;
	uint32_t ntp_hits = 0;
	uint32_t nke_hits = 0;
	uint32_t cmd_hits = 0;
	uint32_t ntp_drops = 0;
	uint32_t nke_drops = 0;
	uint32_t cmd_drops = 0;
	int8_t ntp_interval = 0;
	int8_t nke_interval = 0;
	int8_t cmd_interval = 0;
	int8_t ntp_timeout_interval = 0;
	uint32_t last_ntp_hit_ago_s = 0;
	uint32_t last_nke_hit_ago_s = 0;
	uint32_t last_cmd_hit_ago_s = 0;
	friend bool operator==(const ClientAccess &, const ClientAccess &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ClientAccess>)
{
	using R = ClientAccess;
	v(&R::address, wire::address, "address");
	v(&R::ntp_hits, wire::u32, "ntp/packets");
	v(&R::nke_hits, wire::u32, "nts_ke/connections");
	v(&R::cmd_hits, wire::u32, "command/packets");
	v(&R::ntp_drops, wire::u32, "ntp/dropped");
	v(&R::nke_drops, wire::u32, "nts_ke/dropped");
	v(&R::cmd_drops, wire::u32, "command/dropped");
	v(&R::ntp_interval, wire::i8, "ntp/interval_log2", as::log2_interval);
	v(&R::nke_interval, wire::i8, "nts_ke/interval_log2", as::log2_interval);
	v(&R::cmd_interval, wire::i8, "command/interval_log2", as::log2_interval);
	v(&R::ntp_timeout_interval, wire::i8, "ntp/response_interval_log2", as::log2_interval);
	v(&R::last_ntp_hit_ago_s, wire::u32, "ntp/last_ago_s", as::age);
	v(&R::last_nke_hit_ago_s, wire::u32, "nts_ke/last_ago_s", as::age);
	v(&R::last_cmd_hit_ago_s, wire::u32, "command/last_ago_s", as::age);
}

/// A page of `chronyc clients` (RPY_CLIENT_ACCESSES_BY_INDEX3).
struct ClientAccessesReport {
	uint32_t n_indices = 0;    ///< size of the server's client table
	uint32_t next_index = 0;   ///< where the next page starts
	std::vector<ClientAccess> clients;  ///< at most kMaxClientsPerReply
	friend bool operator==(const ClientAccessesReport &,
			       const ClientAccessesReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ClientAccessesReport>)
{
	using R = ClientAccessesReport;
	v(&R::n_indices, wire::u32, "table_size");
	v(&R::next_index, wire::u32, "next_index");
	v(&R::clients, wire::records<kMaxClientsPerReply>, "clients");
}

/// The NTP modes an ntpdata report shows (RFC 5905 §3), as JSON words.
inline constexpr as::Names<uint8_t, 3> kNtpModeNames{
	{{{1, "symmetric_active"}, {2, "symmetric_passive"}, {4, "server"}}}, "invalid"};
/// Where an ntpdata report's timestamps were taken: 'D' daemon, 'K'
/// kernel, 'H' hardware.
inline constexpr as::Names<char, 3> kTimestampingNames{
	{{{'D', "daemon"}, {'K', "kernel"}, {'H', "hardware"}}}, "invalid"};

/// `chronyc ntpdata` for one source. `tests` holds the results of the ten
/// checks of the last packet (bit set = passed), the first in bit 9, as
/// chronyc prints them in groups of 3, 3 and 4.
struct NtpDataReport {
	Address remote_address;
	Address local_address;
	uint16_t remote_port = 0;
	Leap leap = Leap::None;
	uint8_t version = 0;
	uint8_t mode = 0;
	uint8_t stratum = 0;
	int8_t poll = 0;       ///< log2 s
	int8_t precision = 0;  ///< log2 s
	double root_delay_s = 0;
	double root_dispersion_s = 0;
	uint32_t ref_id = 0;
	RealTime ref_time;
	double offset_s = 0;
	double peer_delay_s = 0;
	double peer_dispersion_s = 0;
	double response_time_s = 0;
	double jitter_asymmetry = 0;
	uint16_t tests = 0;    ///< 10 bits
	bool interleaved = false;
	bool authenticated = false;
	char tx_timestamping = 'D';  ///< D daemon, K kernel, H hardware
	char rx_timestamping = 'D';
	uint32_t total_tx_count = 0;
	uint32_t total_rx_count = 0;
	uint32_t total_valid_count = 0;
	uint32_t total_good_count = 0;
	friend bool operator==(const NtpDataReport &, const NtpDataReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<NtpDataReport>)
{
	using R = NtpDataReport;
	v(&R::remote_address, wire::address, "remote_address");
	v(&R::local_address, wire::address, "local_address");
	v(&R::remote_port, wire::u16, "remote_port");
	v(&R::leap, wire::u8, "leap", kLeapNames);
	v(&R::version, wire::u8, "version");
	v(&R::mode, wire::u8, "mode", kNtpModeNames);
	v(&R::stratum, wire::u8, "stratum");
	v(&R::poll, wire::i8, "poll_log2");
	v(&R::precision, wire::i8, "precision_log2");
	v(&R::root_delay_s, wire::real, "root_delay_s");
	v(&R::root_dispersion_s, wire::real, "root_dispersion_s");
	v(&R::ref_id, wire::u32, "reference_id", as::hex_id);
	v(&R::ref_time, wire::timespec, "reference_time");
	v(&R::offset_s, wire::real, "offset_s");
	v(&R::peer_delay_s, wire::real, "peer_delay_s");
	v(&R::peer_dispersion_s, wire::real, "peer_dispersion_s");
	v(&R::response_time_s, wire::real, "response_time_s");
	v(&R::jitter_asymmetry, wire::real, "jitter_asymmetry");
	v.word(wire::u16, [](auto &bits) {
		bits(&R::tests, wire::mask(0x3ff), "tests", as::bits<10>);
		bits(&R::interleaved, wire::mask(0x4000), "interleaved");
		bits(&R::authenticated, wire::mask(0x8000), "authenticated");
	});
	v(&R::tx_timestamping, wire::u8, "tx_timestamping", kTimestampingNames);
	v(&R::rx_timestamping, wire::u8, "rx_timestamping", kTimestampingNames);
	v(&R::total_tx_count, wire::u32, "total_tx");
	v(&R::total_rx_count, wire::u32, "total_rx");
	v(&R::total_valid_count, wire::u32, "total_valid_rx");
	v(&R::total_good_count, wire::u32, "total_good_rx");
	v.fill(3 * 4, 0xff);  // three reserved words, all ones as chronyd sends them
}

/// SETTIME's answer (RPY_MANUAL_TIMESTAMP2).
struct ManualTimestampReport {
	double offset_s = 0;
	double dfreq_ppm = 0;
	double new_afreq_ppm = 0;
	friend bool operator==(const ManualTimestampReport &,
			       const ManualTimestampReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ManualTimestampReport>)
{
	using R = ManualTimestampReport;
	v(&R::offset_s, wire::real, "offset_s");
	v(&R::dfreq_ppm, wire::real, "frequency_change_ppm");
	v(&R::new_afreq_ppm, wire::real, "frequency_ppm");
}

struct ManualSample {
	RealTime when;
	double slewed_offset_s = 0;
	double orig_offset_s = 0;
	double residual_s = 0;
	friend bool operator==(const ManualSample &, const ManualSample &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ManualSample>)
{
	using R = ManualSample;
	v(&R::when, wire::timespec, "time");
	v(&R::slewed_offset_s, wire::real, "slewed_offset_s");
	v(&R::orig_offset_s, wire::real, "original_offset_s");
	v(&R::residual_s, wire::real, "residual_s");
}

/// `chronyc manual list` (RPY_MANUAL_LIST2).
struct ManualListReport {
	std::vector<ManualSample> samples;  ///< at most kMaxManualSamples
	friend bool operator==(const ManualListReport &, const ManualListReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<ManualListReport>)
{
	v(&ManualListReport::samples, wire::records<kMaxManualSamples>, "samples");
}

/// `chronyc sourcename` and `sources -N`.
struct SourceNameReport {
	std::string name;  ///< at most 255 characters, no NUL
	friend bool operator==(const SourceNameReport &, const SourceNameReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SourceNameReport>)
{
	v(&SourceNameReport::name, wire::name, "name", show::line(0, ""));
}

enum class AuthMode : uint16_t { None = 0, Symmetric = 1, Nts = 2 };
inline constexpr as::Names<AuthMode, 3> kAuthModeNames{
	{{{AuthMode::None, "none"}, {AuthMode::Symmetric, "symmetric"}, {AuthMode::Nts, "nts"}}},
	"unknown"};

/// One line of `chronyc authdata`.
struct AuthDataReport {
	AuthMode mode = AuthMode::None;
	uint16_t key_type = 0;
	uint32_t key_id = 0;
	uint16_t key_length = 0;   ///< bits
	uint16_t ke_attempts = 0;
	uint32_t last_ke_ago_s = 0;
	uint16_t cookies = 0;
	uint16_t cookie_length = 0;
	uint16_t nak = 0;
	friend bool operator==(const AuthDataReport &, const AuthDataReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<AuthDataReport>)
{
	using R = AuthDataReport;
	v(&R::mode, wire::u16, "mode", kAuthModeNames);
	v(&R::key_type, wire::u16, "key_type");
	v(&R::key_id, wire::u32, "key_id");
	v(&R::key_length, wire::u16, "key_length_bits");
	v(&R::ke_attempts, wire::u16, "key_exchange_attempts");
	v(&R::last_ke_ago_s, wire::u32, "last_key_exchange_ago_s", as::age);
	v(&R::cookies, wire::u16, "cookies");
	v(&R::cookie_length, wire::u16, "cookie_length_bytes");
	v(&R::nak, wire::u16, "naks");
	v.fill(2);  // pad
}

/// Selection option bits of SelectDataReport (chrony's RPY_SD_OPTION_*).
inline constexpr uint16_t kSelectNoselect = 0x1;
inline constexpr uint16_t kSelectPrefer = 0x2;
inline constexpr uint16_t kSelectTrust = 0x4;
inline constexpr uint16_t kSelectRequire = 0x8;
inline constexpr as::FlagNames<uint16_t, 4> kSelectOptionNames{{{{kSelectNoselect, "noselect"},
								  {kSelectPrefer, "prefer"},
								  {kSelectTrust, "trust"},
								  {kSelectRequire, "require"}}}};

/// One line of `chronyc selectdata`.
struct SelectDataReport {
	uint32_t ref_id = 0;
	Address address;  ///< NoAddress for a reference clock (chronyc shows ref_id)
	char state = 'N';  ///< chronyd's selection state letter (N s M d D ~ w W S O T P U x + *)
	bool authenticated = false;
	Leap leap = Leap::None;
	uint16_t configured_options = 0;  ///< kSelect* bits
	uint16_t effective_options = 0;   ///< kSelect* bits
	uint32_t last_sample_ago_s = 0;
	double score = 0;
	double lo_limit_s = 0;
	double hi_limit_s = 0;
	friend bool operator==(const SelectDataReport &, const SelectDataReport &) = default;
};

template <class V>
constexpr void fields(V &v, Of<SelectDataReport>)
{
	using R = SelectDataReport;
	// selectdata_json() keeps the id for reference clocks only.
	v(&R::ref_id, wire::u32, "reference_id", as::hex_id);
	v(&R::address, wire::address, "address");
	v(&R::state, wire::u8, "state", as::letter);
	v(&R::authenticated, wire::u8, "authenticated");
	v(&R::leap, wire::u8, "leap", kLeapNames);
	v.fill(1);  // pad
	v(&R::configured_options, wire::u16, "configured_options", kSelectOptionNames);
	v(&R::effective_options, wire::u16, "effective_options", kSelectOptionNames);
	v(&R::last_sample_ago_s, wire::u32, "last_sample_ago_s", as::age);
	v(&R::score, wire::real, "score");
	v(&R::lo_limit_s, wire::real, "offset_low_s");
	v(&R::hi_limit_s, wire::real, "offset_high_s");
}

/// A reply's report; the alternative decides the reply type (reply_type()).
using ReplyBody = std::variant<NullReport, NSourcesReport, SourceDataReport, TrackingReport,
			       SourceStatsReport, RtcReport, ActivityReport, SmoothingReport,
			       ServerStatsReport, ClientAccessesReport, NtpDataReport,
			       ManualTimestampReport, ManualListReport, SourceNameReport,
			       AuthDataReport, SelectDataReport>;

ReplyType reply_type(const ReplyBody &body);

/// Length of a reply of `type`, header included; 0 for types chronyd 4.3
/// never sends.
size_t reply_length(ReplyType type);

struct Reply {
	/// chronyd answers in its own version, even to say that the request's differs.
	uint8_t version = kProtocolVersion;
	uint16_t command = 0;    ///< the request's command code, echoed
	Status status = Status::Success;
	uint32_t sequence = 0;   ///< the request's sequence number, echoed
	ReplyBody body;
	friend bool operator==(const Reply &, const Reply &) = default;
};

/// A reply to `request` carrying `body` and `status`.
Reply reply_to(const Request &request, ReplyBody body = NullReport{},
	       Status status = Status::Success);
/// The error reply for a rejection that gets one (its status must be set).
Reply reply_to(const Rejection &rejection);

/// The reply datagram. A server must not send it when it is longer than the
/// request it answers (see the file comment); with request_length() padding
/// that only happens for a request answered with the wrong report.
/// Errors (Errc::InvalidArgument): more than kMaxClientsPerReply clients or
/// kMaxManualSamples samples, a source name of 256 bytes or more or with a
/// NUL in it.
Result<std::vector<std::byte>> encode_reply(const Reply &reply);

/// Decodes a reply datagram as chronyc checks it: a full header, packet
/// type 2, reserved bytes zero, version 6 (or, with Status::BadPktVersion,
/// any version from 4), a reply type chronyd 4.3 sends and at least its
/// length. Whether it answers our request is answers()' question.
/// Errors: Errc::Malformed, naming the fault; the client ignores such a
/// datagram and keeps waiting for its answer, as chronyc does.
Result<Reply> parse_reply(std::span<const std::byte> datagram);

/// Whether `reply` is the answer to `request` (same command and sequence);
/// others are stale or forged and the client keeps waiting.
bool answers(const Reply &reply, const Request &request);

} // namespace strata::control
