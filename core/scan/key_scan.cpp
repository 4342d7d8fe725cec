// A replica's side of enumeration (key_scan.h).

#include "core/scan/key_scan.h"

#include <optional>
#include <utility>
#include <vector>

#include "core/node/node_context.h"
#include "core/scan/scan_cursor.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

constexpr std::size_t store_page_records = 256;

KeyScanReply refused(const KeyScan& request, Status status) {
  KeyScanReply reply;
  reply.request_id = request.request_id;
  reply.status = to_wire(status);
  return reply;
}

}  // namespace

bool is_listed(const SiblingSet& state, WallMicros now) {
  return !state.empty() && !state.is_dead_at(now);
}

KeyScanReply scan_span(NodeStorage& storage, const KeyScan& request, NodeCounters& counters,
                       WallMicros now) {
  if (request.first_token > request.last_token) {
    return refused(request, error(Code::invalid_argument, "KeyScan: first_token > last_token"));
  }
  if (request.keys_max == 0 || request.keys_max > scan_page_keys_max) {
    return refused(request, error(Code::invalid_argument,
                                  "KeyScan: keys_max must be 1 to " +
                                      std::to_string(scan_page_keys_max)));
  }
  // [first, last] as the store's half-open (begin, end]: a first token of 0 is the wrapping
  // range (2^64-1, last], which walks (2^64-1, 2^64-1] (nothing) and then [0, last].
  const KeyRange range{request.first_token == 0 ? ~Token{0} : request.first_token - 1,
                       request.last_token};
  KeyScanReply reply;
  reply.request_id = request.request_id;
  std::optional<std::pair<Token, Key>> after;
  std::size_t examined = 0;
  std::optional<Token> last_bucket;  // set once the page is full: finish this bucket
  while (true) {
    auto page = storage.scan_keys(range, store_page_records, after);
    if (!page.ok()) return refused(request, page.status());
    for (const ScannedKey& record : *page) {
      if (last_bucket && bucket_start(record.token) != *last_bucket) {
        reply.covered_through = bucket_end(*last_bucket);
        reply.complete = reply.covered_through >= request.last_token;
        if (reply.complete) reply.covered_through = request.last_token;
        return reply;
      }
      ++examined;
      if (last_bucket && examined > key_scan_records_max + bucket_records_max) {
        return refused(request, error(Code::resource_exhausted,
                                      "KeyScan: more than " + std::to_string(bucket_records_max) +
                                          " keys share one cursor bucket"));
      }
      if (record.corrupt) {
        counters.add("keys_scan_corrupt_skipped");
      } else if (auto state = decode_sibling_set(record.encoded); !state.ok()) {
        counters.add("keys_scan_corrupt_skipped");
      } else if (is_listed(*state, now)) {
        reply.keys.push_back(record.key);
      }
      if (!last_bucket &&
          (reply.keys.size() >= request.keys_max || examined >= key_scan_records_max)) {
        last_bucket = bucket_start(record.token);
      }
    }
    if (page->size() < store_page_records) break;
    after = std::make_pair(page->back().token, page->back().key);
  }
  reply.complete = true;
  reply.covered_through = request.last_token;
  return reply;
}

KeyCountReply count_keys(NodeStorage& storage, const KeyCount& request) {
  KeyCountReply reply;
  reply.request_id = request.request_id;
  auto count = storage.key_count();
  if (!count.ok()) {
    reply.status = to_wire(count.status());
  } else {
    reply.count = *count;
  }
  return reply;
}

}  // namespace vigil::core
