#include "ntp/access.h"

namespace strata::ntp {

namespace {

/// The 4-bit group `level` (0 = most significant) of an address.
unsigned nibble(const IpAddress &a, int level)
{
	uint8_t byte = a.bytes()[static_cast<size_t>(level / 2)];
	return level % 2 == 0 ? byte >> 4 : byte & 0x0fu;
}

} // namespace

AccessTable::AccessTable() = default;
AccessTable::~AccessTable() = default;
AccessTable::AccessTable(AccessTable &&) noexcept = default;
AccessTable &AccessTable::operator=(AccessTable &&) noexcept = default;

void AccessTable::set_root(Root &root, bool allow, bool all)
{
	root.state = allow ? State::Allow : State::Deny;
	if (all) {
		root.table = Table{};
	}
}

void AccessTable::allow_everything(bool all)
{
	set_root(v4_, true, all);
	set_root(v6_, true, all);
}

void AccessTable::deny_everything(bool all)
{
	set_root(v4_, false, all);
	set_root(v6_, false, all);
}

void AccessTable::set(const Subnet &subnet, bool allow, bool all)
{
	Root &root = subnet.address.is_v4() ? v4_ : v6_;
	int len = subnet.prefix_len;
	if (len <= 0) {
		set_root(root, allow, all);
		return;
	}
	// The rule lives in the table at depth ceil(len/4) - 1 and covers the
	// 2^(4·depth+4 − len) entries that share the prefix's last partial nibble.
	int depth = (len + 3) / 4 - 1;
	Table *table = &root.table;
	for (int level = 0; level < depth; level++) {
		Entry &e = table->entries[nibble(subnet.address, level)];
		if (!e.child) {
			e.child = std::make_unique<Table>();
		}
		table = e.child.get();
	}
	unsigned span = 1u << (4 * (depth + 1) - len);
	unsigned first = nibble(subnet.address, depth) & ~(span - 1);
	for (unsigned i = first; i < first + span; i++) {
		Entry &e = table->entries[i];
		e.state = allow ? State::Allow : State::Deny;
		if (all) {
			e.child.reset();
		}
	}
}

bool AccessTable::allowed(const IpAddress &address) const
{
	IpAddress a = address.unmapped();
	const Root &root = a.is_v4() ? v4_ : v6_;
	State state = root.state;
	const Table *table = &root.table;
	int levels = a.bit_length() / 4;
	for (int level = 0; level < levels && table != nullptr; level++) {
		const Entry &e = table->entries[nibble(a, level)];
		if (e.state != State::AsParent) {
			state = e.state;
		}
		table = e.child.get();
	}
	return state == State::Allow;
}

bool AccessTable::any_allow(const Table &t)
{
	for (const Entry &e : t.entries) {
		if (e.state == State::Allow || (e.child && any_allow(*e.child))) {
			return true;
		}
	}
	return false;
}

bool AccessTable::any_allowed(IpAddress::Family family) const
{
	const Root &root = family == IpAddress::Family::V4 ? v4_ : v6_;
	return root.state == State::Allow || any_allow(root.table);
}

} // namespace strata::ntp
