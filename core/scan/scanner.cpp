// Scanner: the coordinating side of enumeration (scanner.h has the theory of operation).

#include "core/scan/scanner.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/scan/key_scan.h"
#include "core/scan/scan_cursor.h"

namespace vigil::core {

namespace {

std::string token_text(Token token) {
  return std::to_string(token);
}

}  // namespace

Scanner::Scanner(NodeContext& context) : context_(context), tokens_(context.ring.tokens()) {}

RequestId Scanner::next_id() {
  sequence_ = (sequence_ + 1) & sequence_max;
  return (context_.incarnation << sequence_bits) | sequence_;
}

void Scanner::reply(ClientReply reply) {
  const bool success = reply.status.ok();
  context_.counters.add(success ? "replies_ok" : "replies_failed");
  context_.counters.add(reply_code_counter(reply.status.code()));
  context_.replies.push_back(std::move(reply));
}

void Scanner::handle_client_request(const Now& now, const ClientRequest& request) {
  VIGIL_ASSERT(request.op == ClientOp::scan || request.op == ClientOp::key_count,
               "Scanner: not an enumeration request");
  context_.counters.add(request_counter(request.op));
  if (in_flight() >= scans_in_flight_max) {
    ClientReply refused;
    refused.id = request.id;
    refused.status = error(Code::resource_exhausted,
                           "too many scans in flight on this node (" +
                               std::to_string(scans_in_flight_max) + "); retry later");
    reply(std::move(refused));
    return;
  }
  const Instant deadline = now.monotonic + context_.options.request_timeout;
  if (request.op == ClientOp::key_count) {
    Count count;
    count.client_id = request.id;
    count.deadline = deadline;
    const RequestId id = next_id();
    for (const NodeId& node : context_.ring.nodes()) {
      if (node == context_.self()) {
        const KeyCountReply own = count_keys(context_.storage, KeyCount{id});
        count.waiting[node] = true;
        if (own.status.code == Code::ok) {
          count.sum += own.count;
          ++count.answered;
        }
      } else {
        count.waiting[node] = false;
        context_.send(node, KeyCount{id});
      }
    }
    count.deadline = std::min(deadline, now.monotonic + context_.options.replication_timeout);
    if (count.answered == count.waiting.size()) return answer_count(count);
    counts_.emplace(id, std::move(count));
    return;
  }
  Walk walk;
  walk.client_id = request.id;
  walk.deadline = deadline;
  walk.count = request.scan_count;
  auto start = decode_cursor(request.scan_cursor);
  if (!start.ok()) return answer_walk(walk, start.status());
  if (walk.count == 0 || walk.count > scan_page_keys_max) {
    return answer_walk(walk, error(Code::invalid_argument,
                                   "COUNT must be 1 to " + std::to_string(scan_page_keys_max)));
  }
  walk.next = *start;
  advance(now, std::move(walk));
}

bool Scanner::holds(const NodeId& replica, Token token) const {
  const std::vector<NodeId> list = context_.ring.preference_list(token, context_.options.replicas);
  return std::find(list.begin(), list.end(), replica) != list.end();
}

// The ring range holding `first` ends at the first token >= first, or, above the last
// token, at 2^64-1 (that piece of the wrapping range is walked last; its keys below the
// first token are walked first, from 0). Following ranges are added while `replica` holds
// them too.
Token Scanner::span_last(Token first, const NodeId& replica) const {
  auto at = std::lower_bound(tokens_.begin(), tokens_.end(), first);
  if (at == tokens_.end()) return ~Token{0};
  Token last = *at;
  for (std::size_t ranges = 1; ranges < spans_ranges_max; ++ranges) {
    ++at;
    if (at == tokens_.end()) {
      // The piece above the last token belongs to the first token's range.
      if (holds(replica, ~Token{0})) last = ~Token{0};
      break;
    }
    if (!holds(replica, *at)) break;
    last = *at;
  }
  return last;
}

bool Scanner::absorb(Walk& walk, Token first, Token last, const KeyScanReply& reply) {
  if (!reply.complete && (reply.covered_through < first || reply.covered_through >= last ||
                          reply.covered_through != bucket_end(reply.covered_through))) {
    return false;
  }
  if (reply.keys.size() > scan_page_keys_max + bucket_records_max) return false;
  walk.keys.insert(walk.keys.end(), reply.keys.begin(), reply.keys.end());
  const Token through = reply.complete ? last : reply.covered_through;
  walk.ring_done = through == ~Token{0};
  walk.next = through + 1;  // wraps to 0 exactly when the ring is done
  walk.tried.clear();
  ++walk.spans;
  return true;
}

void Scanner::advance(const Now& now, Walk walk) {
  while (true) {
    if (walk.ring_done) return answer_walk(walk, Status::ok_status());
    const bool full = walk.keys.size() >= walk.count || walk.spans >= round_trips_max;
    if (full && walk.next == bucket_start(walk.next)) {
      return answer_walk(walk, Status::ok_status());
    }
    // The replica: this node when it holds the span and has not failed it, else the first
    // listed peer not tried yet, up ones first.
    const std::vector<NodeId> list =
        context_.ring.preference_list(walk.next, context_.options.replicas);
    const auto untried = [&walk](const NodeId& node) {
      return std::find(walk.tried.begin(), walk.tried.end(), node) == walk.tried.end();
    };
    std::optional<NodeId> target;
    if (std::find(list.begin(), list.end(), context_.self()) != list.end() &&
        untried(context_.self())) {
      target = context_.self();
    }
    for (int pass = 0; pass < 2 && !target; ++pass) {
      for (const NodeId& node : list) {
        if (node == context_.self() || !untried(node)) continue;
        if (pass == 0 && !context_.peer_is_up(node)) continue;
        target = node;
        break;
      }
    }
    if (!target) {
      return answer_walk(walk, error(Code::unavailable,
                                     "no replica of the token range at " + token_text(walk.next) +
                                         " answered the scan (" + std::to_string(walk.tried.size()) +
                                         " tried); retry with the same cursor"));
    }
    Token last = span_last(walk.next, *target);
    std::uint32_t keys_max = 1;  // full: only the rest of the bucket is wanted
    if (full) {
      last = std::min(last, bucket_end(walk.next));
    } else {
      keys_max = static_cast<std::uint32_t>(walk.count - walk.keys.size());
    }
    const Token first = walk.next;
    if (*target == context_.self()) {
      const KeyScanReply own =
          scan_span(context_.storage, KeyScan{0, first, last, keys_max}, context_.counters,
                    now.wall_us);
      if (own.status.code != Code::ok || !absorb(walk, first, last, own)) {
        walk.tried.push_back(context_.self());
      }
      continue;
    }
    const RequestId id = next_id();
    walk.asked = *target;
    walk.last = last;
    walk.attempt_deadline =
        std::min(walk.deadline, now.monotonic + context_.options.replication_timeout);
    context_.counters.add("key_scans_sent");
    context_.send(*target, KeyScan{id, first, last, keys_max});
    walks_.emplace(id, std::move(walk));
    return;
  }
}

void Scanner::answer_walk(const Walk& walk, Status status) {
  ClientReply answer;
  answer.id = walk.client_id;
  answer.status = std::move(status);
  if (answer.status.ok()) {
    answer.keys = walk.keys;
    answer.scan_cursor = walk.ring_done ? 0 : encode_cursor(walk.next);
  }
  reply(std::move(answer));
}

void Scanner::answer_count(const Count& count) {
  ClientReply answer;
  answer.id = count.client_id;
  answer.replicas_needed = static_cast<std::uint32_t>(count.waiting.size());
  answer.replicas_answered = static_cast<std::uint32_t>(count.answered);
  if (count.answered == 0) {
    answer.status = error(Code::unavailable, "no node answered the key count");
  } else {
    const std::uint64_t copies = std::min<std::uint64_t>(context_.options.replicas,
                                                         count.waiting.size());
    // sum * nodes / answered / copies, in 128 bits so no product overflows.
    __extension__ using Wide = unsigned __int128;
    answer.key_count = static_cast<std::uint64_t>(Wide{count.sum} * count.waiting.size() /
                                                  count.answered / copies);
  }
  reply(std::move(answer));
}

bool Scanner::handle_message(const Now& now, const NodeId& from, const Message& message) {
  if (const auto* scan = std::get_if<KeyScan>(&message)) {
    context_.counters.add("key_scans_answered");
    context_.send(from, scan_span(context_.storage, *scan, context_.counters, now.wall_us));
  } else if (const auto* scan_reply = std::get_if<KeyScanReply>(&message)) {
    handle_scan_reply(now, from, *scan_reply);
  } else if (const auto* count = std::get_if<KeyCount>(&message)) {
    context_.counters.add("key_counts_answered");
    context_.send(from, count_keys(context_.storage, *count));
  } else if (const auto* count_reply = std::get_if<KeyCountReply>(&message)) {
    handle_count_reply(from, *count_reply);
  } else {
    return false;
  }
  return true;
}

void Scanner::handle_scan_reply(const Now& now, const NodeId& from, const KeyScanReply& reply) {
  auto found = walks_.find(reply.request_id);
  if (found == walks_.end()) {
    context_.counters.add("ignored_unknown_request");
    return;
  }
  if (found->second.asked != from) {
    context_.counters.add("ignored_unexpected_sender");
    return;
  }
  Walk walk = std::move(found->second);
  walks_.erase(found);
  const Token first = walk.next;
  if (reply.status.code != Code::ok) {
    context_.counters.add("key_scan_fallbacks");
    walk.tried.push_back(from);
  } else if (!absorb(walk, first, walk.last, reply)) {
    context_.counters.add("key_scan_bad_replies");
    walk.tried.push_back(from);
  }
  walk.asked.clear();
  advance(now, std::move(walk));
}

void Scanner::handle_count_reply(const NodeId& from, const KeyCountReply& reply) {
  auto found = counts_.find(reply.request_id);
  if (found == counts_.end()) {
    context_.counters.add("ignored_unknown_request");
    return;
  }
  Count& count = found->second;
  auto waiting = count.waiting.find(from);
  if (waiting == count.waiting.end() || waiting->second) {
    context_.counters.add(waiting == count.waiting.end() ? "ignored_unexpected_sender"
                                                        : "ignored_duplicate");
    return;
  }
  waiting->second = true;
  if (reply.status.code == Code::ok) {
    count.sum += reply.count;
    ++count.answered;
  }
  const bool all = std::all_of(count.waiting.begin(), count.waiting.end(),
                               [](const auto& entry) { return entry.second; });
  if (!all) return;
  const Count done = std::move(count);
  counts_.erase(found);
  answer_count(done);
}

void Scanner::handle_timeout(const Now& now) {
  // Walks whose deadline passed: the page times out; attempts that passed: the next replica.
  std::vector<RequestId> due;
  for (const auto& [id, walk] : walks_) {
    if (walk.attempt_deadline <= now.monotonic) due.push_back(id);
  }
  for (const RequestId id : due) {
    Walk walk = std::move(walks_.at(id));
    walks_.erase(id);
    if (walk.deadline <= now.monotonic) {
      answer_walk(walk, error(Code::timeout, "the scan page did not finish within "
                                             "request_timeout; retry with the same cursor"));
      continue;
    }
    context_.counters.add("key_scan_fallbacks");
    walk.tried.push_back(walk.asked);
    walk.asked.clear();
    advance(now, std::move(walk));
  }
  std::vector<RequestId> counts_due;
  for (const auto& [id, count] : counts_) {
    if (count.deadline <= now.monotonic) counts_due.push_back(id);
  }
  for (const RequestId id : counts_due) {
    const Count done = std::move(counts_.at(id));
    counts_.erase(id);
    answer_count(done);
  }
}

void Scanner::check_invariants() const {
  VIGIL_ASSERT(in_flight() <= scans_in_flight_max, "Scanner: more scans than the bound");
  for (const auto& [id, walk] : walks_) {
    VIGIL_ASSERT(!walk.asked.empty(), "Scanner: a waiting walk asked nobody");
    VIGIL_ASSERT(walk.attempt_deadline <= walk.deadline, "Scanner: an attempt outlives its page");
    VIGIL_ASSERT(!walk.ring_done && walk.next <= walk.last, "Scanner: a span behind the walk");
  }
  for (const auto& [id, count] : counts_) {
    VIGIL_ASSERT(std::any_of(count.waiting.begin(), count.waiting.end(),
                             [](const auto& entry) { return !entry.second; }),
                 "Scanner: a finished count still in flight");
  }
}

std::optional<Instant> Scanner::poll_timeout() const {
  std::optional<Instant> next;
  for (const auto& [id, walk] : walks_) {
    if (!next || walk.attempt_deadline < *next) next = walk.attempt_deadline;
  }
  for (const auto& [id, count] : counts_) {
    if (!next || count.deadline < *next) next = count.deadline;
  }
  return next;
}

}  // namespace vigil::core
