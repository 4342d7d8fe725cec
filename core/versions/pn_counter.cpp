#include "core/versions/pn_counter.h"

#include <algorithm>
#include <limits>

#include "core/types.h"

namespace vigil::core {

namespace {

constexpr std::size_t node_id_bytes_max = 64;

// Little-endian fixed-width fields, as the codec writes them (core/wire/bytes.h). Written
// here rather than with ByteWriter/ByteReader because core/versions sits below core/wire in
// the layers (tests/tidy/layers.sh): the wire codec carries versions, not the other way.
void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  Status u32(std::uint32_t& out, std::string_view field) {
    std::uint64_t wide = 0;
    if (Status status = fixed(wide, 4, field); !status.ok()) return status;
    out = static_cast<std::uint32_t>(wide);
    return Status::ok_status();
  }
  Status u64(std::uint64_t& out, std::string_view field) { return fixed(out, 8, field); }
  Status string(std::string& out, std::size_t bound, std::string_view field) {
    std::uint32_t length = 0;
    if (Status status = u32(length, field); !status.ok()) return status;
    if (length > bound || length > bytes_.size()) {
      return error(Code::invalid_argument, std::string(field) + ": length " +
                                               std::to_string(length) + " is too long");
    }
    out.assign(bytes_.substr(0, length));
    bytes_.remove_prefix(length);
    return Status::ok_status();
  }
  std::size_t remaining() const { return bytes_.size(); }

 private:
  Status fixed(std::uint64_t& out, std::size_t width, std::string_view field) {
    if (bytes_.size() < width) {
      return error(Code::invalid_argument, std::string(field) + ": truncated (need " +
                                               std::to_string(width) + " bytes, " +
                                               std::to_string(bytes_.size()) + " remain)");
    }
    out = 0;
    for (std::size_t i = 0; i < width; ++i) {
      out |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[i])) << (8 * i);
    }
    bytes_.remove_prefix(width);
    return Status::ok_status();
  }
  std::string_view bytes_;
};

bool id_less(const PnCounterEntry& entry, const Dot& id) {
  return entry.id < id;
}

}  // namespace

void PnCounter::merge(const PnCounter& other) {
  std::vector<PnCounterEntry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->id < b->id)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->id < a->id) {
      merged.push_back(*b++);
    } else {
      PnCounterEntry entry = *a++;
      entry.increments = std::max(entry.increments, b->increments);
      entry.decrements = std::max(entry.decrements, b->decrements);
      merged.push_back(entry);
      ++b;
    }
  }
  entries_ = std::move(merged);
}

CounterTotal PnCounter::value() const {
  CounterTotal total = 0;
  for (const PnCounterEntry& entry : entries_) {
    total += static_cast<CounterTotal>(entry.increments);
    total -= static_cast<CounterTotal>(entry.decrements);
  }
  return total;
}

const PnCounterEntry* PnCounter::latest_of(const NodeId& actor) const {
  const PnCounterEntry* latest = nullptr;
  for (const PnCounterEntry& entry : entries_) {
    if (entry.id.node == actor) latest = &entry;  // ascending ids: the last one is the latest
  }
  return latest;
}

Status PnCounter::add(const Dot& id, std::int64_t delta) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id, id_less);
  const bool found = it != entries_.end() && it->id == id;
  const std::uint64_t held =
      !found ? 0 : (delta >= 0 ? it->increments : it->decrements);
  // |delta| as unsigned: -INT64_MIN does not fit an int64.
  const std::uint64_t magnitude = delta >= 0 ? static_cast<std::uint64_t>(delta)
                                             : ~static_cast<std::uint64_t>(delta) + 1;
  if (held > std::numeric_limits<std::uint64_t>::max() - magnitude) {
    return error(Code::invalid_argument, "the counter entry of " + id.node + " would overflow");
  }
  if (!found) it = entries_.insert(it, PnCounterEntry{id, 0, 0});
  (delta >= 0 ? it->increments : it->decrements) = held + magnitude;
  return Status::ok_status();
}

std::string encode_pn_counter(const PnCounter& counter) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(counter.entries().size()));
  for (const PnCounterEntry& entry : counter.entries()) {
    put_u32(out, static_cast<std::uint32_t>(entry.id.node.size()));
    out += entry.id.node;
    put_u64(out, entry.id.counter);
    put_u64(out, entry.increments);
    put_u64(out, entry.decrements);
  }
  return out;
}

Result<PnCounter> decode_pn_counter(std::string_view bytes) {
  Reader reader(bytes);
  std::uint32_t count = 0;
  if (Status status = reader.u32(count, "counter.entries"); !status.ok()) return status;
  if (count > pn_counter_entries_max) {
    return error(Code::invalid_argument, "counter.entries: " + std::to_string(count) +
                                             " entries, over " +
                                             std::to_string(pn_counter_entries_max));
  }
  PnCounter counter;
  for (std::uint32_t i = 0; i < count; ++i) {
    Dot id;
    std::uint64_t increments = 0;
    std::uint64_t decrements = 0;
    Status status = reader.string(id.node, node_id_bytes_max, "counter.entry.node");
    if (status.ok()) status = reader.u64(id.counter, "counter.entry.counter");
    if (status.ok()) status = reader.u64(increments, "counter.entry.increments");
    if (status.ok()) status = reader.u64(decrements, "counter.entry.decrements");
    if (!status.ok()) return status;
    const std::string where = "counter.entries[" + std::to_string(i) + "]: ";
    if (!is_valid_node_id(id.node)) return error(Code::invalid_argument, where + "bad node id");
    if (id.counter == 0) return error(Code::invalid_argument, where + "dot counter is 0");
    if (!counter.entries().empty() && !(counter.entries().back().id < id)) {
      return error(Code::invalid_argument, where + "ids not strictly ascending");
    }
    counter.entries_.push_back(PnCounterEntry{std::move(id), increments, decrements});
  }
  if (reader.remaining() != 0) {
    return error(Code::invalid_argument,
                 "counter: " + std::to_string(reader.remaining()) + " trailing bytes");
  }
  return counter;
}

std::string counter_text(CounterTotal value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  // Magnitude as unsigned 128 bits: the most negative value has no positive counterpart.
  CounterMagnitude magnitude =
      negative ? ~static_cast<CounterMagnitude>(value) + 1 : static_cast<CounterMagnitude>(value);
  std::string digits;
  while (magnitude != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

}  // namespace vigil::core
