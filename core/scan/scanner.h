#pragma once
// Scanner: the coordinating side of enumeration (SCAN and KEYS pages, DBSIZE), a part of
// core::Node in the handle_*/poll_timeout shape. Any node coordinates any scan: no key
// names a preference list, so a scan is never forwarded.
//
// A page (ClientOp::scan) walks the ring upward from its cursor's token
// (core/scan/scan_cursor.h) to 2^64-1, never wrapping. The walk goes span by span: a span
// starts at the next token not yet walked and runs through consecutive ring ranges that
// one replica holds (up to spans_ranges_max of them). That replica is this node when it
// is on the span's preference list (scanned at once, no message), else the first listed
// peer that is up, asked with a KeyScan. A replica that does not answer within
// replication_timeout, or answers with an error, is replaced by the next one of the list
// for the same position (a fallback); when none is left the page fails `unavailable`,
// naming the range. The page ends when it holds COUNT keys or took round_trips_max spans,
// but only at a cursor bucket's end (the last span is then cut to finish the bucket), or at
// the end of the ring (cursor 0). Every page is answered by its request_timeout.
//
// What a walk promises (docs/client-protocol.md): while the ring does not change, each key
// is listed at most once per walk (spans are disjoint and ordered; every key of a bucket is
// listed by the page that reaches it); a key that stays live on every replica from the
// start to the end of a walk is listed. Each span is one replica's view (R = 1, as
// Cassandra's range scans at ONE): a key whose write that replica has not got yet (a hint
// or anti-entropy pending) can be missed, and a deleted key whose delete it has not got
// can be listed.
//
// DBSIZE (ClientOp::key_count) asks every node of the ring for its record count
// (KeyCount; this node's own directly), waits up to replication_timeout, and answers
// sum * nodes / answered / min(N, nodes): each key is stored N times, and nodes that did
// not answer are taken to hold the average. An estimate, never an exact count: tombstones
// not yet collected and replicas not yet repaired are counted too.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/node/client.h"
#include "core/node/node_context.h"
#include "core/time.h"
#include "core/wire/messages.h"

namespace vigil::core {

// Spans (round trips or local scans) one page takes before it ends at the next bucket end.
inline constexpr std::size_t round_trips_max = 32;
// Ring ranges one span may run through (consecutive ranges the same replica holds).
inline constexpr std::size_t spans_ranges_max = 64;
// Scan pages and key counts this node coordinates at once; more are refused
// resource_exhausted.
inline constexpr std::size_t scans_in_flight_max = 256;

class Scanner {
 public:
  explicit Scanner(NodeContext& context);

  // REQUIRES: request.op is scan or key_count.
  void handle_client_request(const Now& now, const ClientRequest& request);
  // KeyScan, KeyScanReply, KeyCount, KeyCountReply; false for any other message.
  bool handle_message(const Now& now, const NodeId& from, const Message& message);
  void handle_timeout(const Now& now);
  std::optional<Instant> poll_timeout() const;
  std::size_t in_flight() const { return walks_.size() + counts_.size(); }
  // Asserts: at most scans_in_flight_max in flight; every waiting walk names the replica it
  // asked, under its deadline, for a span that starts where the walk is; every count still
  // waits for some node.
  void check_invariants() const;

 private:
  struct Walk {
    RequestId client_id = 0;
    Instant deadline{};  // request_timeout: the page is answered by then
    Token next = 0;      // first token not walked yet
    bool ring_done = false;
    std::uint32_t count = 0;
    std::vector<Key> keys;
    std::size_t spans = 0;
    std::vector<NodeId> tried;  // replicas asked for `next` that failed it
    // The span being asked of a peer (asked empty: none).
    NodeId asked;
    Token last = 0;
    Instant attempt_deadline{};
  };
  struct Count {
    RequestId client_id = 0;
    Instant deadline{};
    std::map<NodeId, bool> waiting;  // node -> answered
    std::uint64_t sum = 0;
    std::size_t answered = 0;
  };

  // Walks on until the page is answered or a peer is asked (the walk is then kept under
  // the new request's id: a late reply to an earlier span can never match it).
  void advance(const Now& now, Walk walk);
  // Takes a span's keys into the walk; false when the reply does not fit the span asked.
  bool absorb(Walk& walk, Token first, Token last, const KeyScanReply& reply);
  // The last token of the span that starts at `first` and that `replica` holds.
  Token span_last(Token first, const NodeId& replica) const;
  bool holds(const NodeId& replica, Token token) const;
  void answer_walk(const Walk& walk, Status status);
  void answer_count(const Count& count);
  void reply(ClientReply reply);
  RequestId next_id();

  void handle_scan_reply(const Now& now, const NodeId& from, const KeyScanReply& reply);
  void handle_count_reply(const NodeId& from, const KeyCountReply& reply);

  NodeContext& context_;
  std::vector<Token> tokens_;  // the ring's, sorted
  std::uint64_t sequence_ = 0;
  std::map<RequestId, Walk> walks_;   // by the id of the KeyScan they wait for
  std::map<RequestId, Count> counts_;
};

}  // namespace vigil::core
