// Access control for the NTP server and the command port: the allow/deny
// rules of chrony.conf (`allow`, `deny`, `cmdallow`, `cmddeny`, with or
// without `all`).
//
// Semantics follow chrony.conf(5): the most specific rule that covers an
// address decides; `allow all SUBNET` / `deny all SUBNET` also override every
// earlier, more specific rule inside SUBNET. Rules are kept in a tree with one
// level per 4 bits of the address, and two rules whose prefix lengths fall in
// the same level and overlap are applied in order (the later one wins), so
// 1.2.3.0/25 and 1.2.3.0/28 interact by order while 1.2.3.0/28 and
// 1.2.3.0/29 do not. With no rule, every address is denied.
#pragma once

#include <array>
#include <memory>

#include "core/address.h"

namespace strata::ntp {

class AccessTable {
public:
	AccessTable();
	~AccessTable();
	AccessTable(AccessTable &&) noexcept;
	AccessTable &operator=(AccessTable &&) noexcept;

	/// Allows (or denies) `subnet`. With `all`, the rule also replaces every
	/// earlier rule for a subnet inside it.
	void allow(const Subnet &subnet, bool all = false) { set(subnet, true, all); }
	void deny(const Subnet &subnet, bool all = false) { set(subnet, false, all); }
	/// A bare `allow`/`deny` (no subnet): every IPv4 and IPv6 address.
	void allow_everything(bool all = false);
	void deny_everything(bool all = false);

	/// Whether a request from `address` may be answered. IPv4-mapped IPv6
	/// addresses are checked as IPv4.
	bool allowed(const IpAddress &address) const;
	/// Whether any address of the family could be allowed: a server socket
	/// for that family is opened only then (chronyd does the same).
	bool any_allowed(IpAddress::Family family) const;

private:
	enum class State : uint8_t { AsParent, Allow, Deny };
	struct Table;
	struct Entry {
		State state = State::AsParent;
		std::unique_ptr<Table> child;
	};
	struct Table {
		std::array<Entry, 16> entries;
	};
	struct Root {
		State state = State::Deny;  // covers prefix length 0
		Table table;
	};

	void set(const Subnet &subnet, bool allow, bool all);
	void set_root(Root &root, bool allow, bool all);
	static bool any_allow(const Table &t);

	Root v4_, v6_;
};

} // namespace strata::ntp
