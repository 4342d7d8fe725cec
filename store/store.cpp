// What both stores share: batch validation, the ring-order scan plan, and how a key is
// named in an error message.
//
// The scan plan turns a ring range (begin, end], which may wrap past 2^64-1, into at most
// two non-wrapping spans with an inclusive lower bound on (token, key). Resuming after a
// record (t, k) becomes the inclusive bound (t, k + '\0'): under memcmp order k + '\0' is
// the smallest key greater than k, so one query shape serves first pages and later ones.

#include "store/store.h"

#include <limits>
#include <utility>

#include "core/assert.h"
#include "core/types.h"

namespace vigil::store {
namespace {

constexpr Token token_max = std::numeric_limits<Token>::max();

Status invalid(std::string message) {
  return core::error(core::Code::invalid_argument, std::move(message));
}

Status validate_keys(const WriteBatch& batch) {
  for (const KeyRecord& record : batch.key_puts) {
    if (record.key.size() > core::key_size_bytes_max) {
      return invalid("key put '" + describe_key(record.key) + "' is over the key size bound");
    }
    if (record.state.size() > state_size_bytes_max) {
      return invalid("key put '" + describe_key(record.key) + "' has a state over the bound");
    }
  }
  for (const Key& key : batch.key_erases) {
    if (key.size() > core::key_size_bytes_max) {
      return invalid("key erase '" + describe_key(key) + "' is over the key size bound");
    }
  }
  return Status::ok_status();
}

Status validate_hints(const WriteBatch& batch) {
  for (const HintRecord& hint : batch.hint_puts) {
    const std::string name = "hint " + std::to_string(hint.id);
    if (hint.id == 0) return invalid("hint id 0 is reserved (hints_after(0) starts past it)");
    if (!core::is_valid_node_id(hint.target)) return invalid(name + " has an invalid target");
    if (hint.key.size() > core::key_size_bytes_max) return invalid(name + " has a key over bound");
    if (hint.state.size() > state_size_bytes_max) return invalid(name + " has a state over bound");
  }
  return Status::ok_status();
}

Status validate_meta(const WriteBatch& batch) {
  for (const auto& [name, value] : batch.meta_puts) {
    if (name.empty() || name.size() > meta_name_bytes_max) {
      return invalid("meta name '" + describe_key(name) + "' is empty or over the bound");
    }
    if (value.size() > state_size_bytes_max) {
      return invalid("meta '" + describe_key(name) + "' has a value over the bound");
    }
  }
  return Status::ok_status();
}

}  // namespace

Status validate_batch(const WriteBatch& batch) {
  if (Status status = validate_keys(batch); !status.ok()) return status;
  if (Status status = validate_hints(batch); !status.ok()) return status;
  return validate_meta(batch);
}

bool token_in_range(TokenRange range, Token token) {
  if (range.begin < range.end) return range.begin < token && token <= range.end;
  return token > range.begin || token <= range.end;  // wraps; begin == end is the whole ring
}

Result<std::vector<ScanSpan>> scan_spans(TokenRange range, const std::optional<KeyRecord>& after) {
  std::vector<ScanSpan> spans;
  if (range.begin < range.end) {
    spans.push_back({range.begin + 1, {}, range.end});
  } else {
    if (range.begin != token_max) spans.push_back({range.begin + 1, {}, token_max});
    spans.push_back({0, {}, range.end});
  }
  if (!after) return spans;
  if (!token_in_range(range, after->token)) {
    return invalid("scan resumes after token " + std::to_string(after->token) +
                   ", which is outside the scanned range");
  }
  // The span holding `after` starts just past it; spans before it in ring order are done.
  while (!(spans.front().first_token <= after->token && after->token <= spans.front().last_token)) {
    spans.erase(spans.begin());
    VIGIL_ASSERT(!spans.empty(), "a token inside the range lies in one of its spans");
  }
  spans.front().first_token = after->token;
  spans.front().first_key = after->key;
  spans.front().first_key.push_back('\0');
  return spans;
}

Result<std::vector<KeyRecord>> Store::scan(TokenRange range, std::size_t limit,
                                           const std::optional<KeyRecord>& after) {
  Result<std::vector<ScannedRecord>> scanned = scan_checked(range, limit, after);
  if (!scanned) return scanned.status();
  std::vector<KeyRecord> records;
  records.reserve(scanned->size());
  for (ScannedRecord& one : *scanned) {
    if (one.corrupt) {
      return core::error(core::Code::corruption,
                         "checksum mismatch in key '" + describe_key(one.record.key) + "'");
    }
    records.push_back(std::move(one.record));
  }
  return records;
}

std::string describe_key(std::string_view key) {
  constexpr std::size_t shown_bytes_max = 64;
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < key.size() && i < shown_bytes_max; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '\'') {
      text.push_back(static_cast<char>(byte));
    } else {
      text += "\\x";
      text.push_back(hex[byte >> 4]);
      text.push_back(hex[byte & 0xf]);
    }
  }
  if (key.size() > shown_bytes_max) text += "...";
  return text;
}

}  // namespace vigil::store
