#pragma once
// The node's counters, declared once. Each line of VIGIL_NODE_COUNTERS names one monotonic
// counter and says what it counts; everything else is derived from that list: the enum
// `Counter`, the names, the meanings, the storage in `NodeCounters`, the Prometheus
// metrics (net/metrics.cpp exports every counter, zeros included, as
// `vigil_node_<name>_total` with the meaning as HELP) and the simulator's report (sim/
// reports the non-zero ones as `node.<name>`).
//
// Code counts with the name as a literal, `counters.add("replies_ok")`; `CounterId`'s
// consteval constructor looks the literal up in the list, so a name that is not declared
// here does not compile. A name chosen at run time between literals (`ok ? "a" : "b"`)
// is looked up when it is counted and asserted to be declared. Code that computes which
// counter to raise uses the enum (`Counter::requests_get`).
//
// To add a counter: add one line below (the name must be a valid metric name: lower case,
// digits and `_`), then count it. Names are part of the operator interface (metrics,
// INFO, /status); renaming one is a breaking change (docs/client-protocol.md).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "core/status.h"

// X(name, meaning). Grouped by the part of the node that counts them.
// clang-format off
#define VIGIL_NODE_COUNTERS(X)                                                               \
  /* Client requests and their replies (core/node, core/coordinator). */                     \
  X(requests_get, "Client get requests received.")                                           \
  X(requests_put, "Client put requests received.")                                           \
  X(requests_del, "Client delete requests received.")                                        \
  X(requests_incr, "Client counter increments (INCR, INCRBY, DECR, DECRBY) received.")       \
  X(requests_from_peers, "Requests forwarded here by a peer to coordinate.")                 \
  X(replies_ok, "Client replies ok (not_found included).")                                   \
  X(replies_failed, "Client replies with an error.")                                         \
  X(replies_code_ok, "Client replies with code ok.")                                         \
  X(replies_code_not_found, "Client replies with code not_found.")                           \
  X(replies_code_unavailable, "Client replies with code unavailable.")                       \
  X(replies_code_timeout, "Client replies with code timeout.")                               \
  X(replies_code_corruption, "Client replies with code corruption.")                         \
  X(replies_code_invalid_argument, "Client replies with code invalid_argument.")             \
  X(replies_code_io_error, "Client replies with code io_error.")                             \
  X(replies_code_resource_exhausted, "Client replies with code resource_exhausted.")         \
  X(replies_code_failed_precondition, "Client replies with code failed_precondition.")       \
  X(quorum_failures, "Client requests answered unavailable: R or W not reached.")            \
  X(replication_incomplete, "Writes answered ok whose replicas had not all acknowledged.")   \
  X(refused_in_flight_max, "Requests refused: requests in flight at requests_in_flight_max.") \
  X(refused_storage_failed, "Writes refused after a storage failure (until restarted).")     \
  X(refused_invalid_argument, "Requests refused for a bad key, value or context.")           \
  X(refused_not_replica, "Forwarded requests refused: this node is not a replica of the key.") \
  X(sibling_refusals, "Writes refused: the key is at its sibling limit.")                    \
  X(increments_refused, "Increments refused: the value is not an integer, or would overflow.") \
  X(coordinate_replies_resent, "Duplicate forwarded requests answered from memory.")         \
  /* Forwarding to a node of the preference list (core/coordinator). */                      \
  X(forwards_sent, "Client requests forwarded to a replica to coordinate.")                  \
  X(forward_retries, "Forwarded requests sent again after no answer.")                       \
  X(forward_timeouts, "Forwarded requests that expired unanswered.")                         \
  X(writes_forwarded_to_coordinator, "Plain writes forwarded to the key's first healthy replica.") \
  X(forward_retries_silence, "Forward retries because the coordinator stayed silent.")      \
  X(forward_retries_refused, "Forward retries because the coordinator refused (failed_precondition).") \
  X(forwards_short_circuited, "Forwards answered unavailable at once: every replica's breaker open.") \
  /* Routing, health checks and circuit breakers (core/routing, core/coordinator). */        \
  X(breaker_openings, "Circuit breakers opened (threshold failures in a row, or a failed trial).") \
  X(breaker_half_opens, "Circuit breakers turned half-open after their timeout.")            \
  X(breaker_closings, "Circuit breakers closed again: every half-open trial succeeded.")     \
  X(routes_short_circuited, "Requests kept from a peer because its circuit breaker was open.") \
  X(routes_fallback, "Routes chosen by the fallback strategy: no preference-list node usable.") \
  X(routes_unavailable, "Routes not found: no usable node (or fallback none).")              \
  X(hint_fallbacks_short_circuited, "Hint fallback candidates passed over: breaker open.")   \
  X(health_checks, "Health checks of every peer (load_balancing.health_check_interval).")   \
  /* Coordinating reads and writes (core/coordinator). */                                    \
  X(replica_writes_sent, "Replica writes sent to peers.")                                    \
  X(replica_write_resends, "Replica writes sent again after no answer.")                     \
  X(replica_write_refusals, "Replica writes a peer answered with an error.")                 \
  X(replica_reads_sent, "Replica reads sent to peers.")                                      \
  X(reads_all_replicas, "Reads that asked all N replicas (read_repair.probability).")        \
  X(reads_quorum_only, "Reads that asked only the replicas R needs.")                        \
  X(read_replicas_added, "Replicas asked beyond a read's first choice (failure, silence).")  \
  X(read_repair_waits_dropped, "Answered reads finished early: the repairing bound was full.") \
  X(replica_read_resends, "Replica reads sent again after no answer.")                       \
  X(replica_read_refusals, "Replica reads a peer answered with an error.")                   \
  X(replica_read_corruption, "Replica reads a peer answered with corruption.")               \
  X(read_repairs_sent, "Read repairs sent to stale replicas.")                               \
  X(read_repairs_local, "Read repairs written to this node's own store.")                    \
  X(read_repair_errors, "Local read repairs that failed to write.")                          \
  X(read_repairs_acknowledged, "Read repairs a peer acknowledged.")                          \
  X(read_repair_refusals, "Read repairs a peer answered with an error.")                     \
  X(read_backs_merged, "Replica states read back after a write and merged locally.")         \
  X(read_repairs_dropped_throttle, "Read repairs dropped: max_concurrent_repairs in flight.") \
  X(read_repairs_dropped_bandwidth, "Read repairs dropped: over the repair bandwidth_limit.") \
  X(read_repairs_timed_out, "Read repairs unacknowledged after replication_timeout.")       \
  /* Serving as a replica (core/replica). */                                                 \
  X(replica_writes_applied, "Replica writes received and applied.")                          \
  X(replica_write_errors, "Replica writes received that failed to apply.")                   \
  X(replica_reads_served, "Replica reads received and answered.")                            \
  /* Storage (every part). */                                                                \
  X(storage_corruption, "Records found corrupt in the local store.")                         \
  X(storage_read_errors, "Local store reads that failed.")                                   \
  X(storage_write_errors, "Local store writes that failed.")                                 \
  X(storage_failures, "Commits that failed (the node then refuses writes).")                 \
  X(withdrawn_replies, "Client replies withdrawn by a failed commit (answered io_error).")   \
  X(withdrawn_messages, "Peer messages withdrawn by a failed commit.")                       \
  /* Versions (core/versions, added by the node). */                                         \
  X(siblings_dropped, "Siblings dropped at the sibling limit.")                              \
  X(dot_conflicts, "Versions with the same dot and different contents met in a merge.")      \
  X(clock_entries_pruned, "Vector clock entries pruned at the clock limits.")                \
  /* Peer input ignored (core/node and its parts). */                                        \
  X(ignored_unknown_sender, "Messages dropped: the sender is not in the ring.")              \
  X(ignored_misaddressed, "Messages dropped: addressed to another node.")                    \
  X(ignored_unknown_request, "Replies dropped: no such request in flight.")                  \
  X(ignored_unexpected_sender, "Replies dropped: the sender was not asked.")                 \
  X(ignored_duplicate, "Messages dropped as duplicates.")                                    \
  X(ignored_wrong_kind, "Replies dropped: the wrong kind for their request.")                \
  X(ignored_unknown_hint, "Hint delivery replies dropped: no such delivery in flight.")      \
  X(ignored_membership_disabled, "Membership messages dropped: membership is disabled.")     \
  /* Hinted handoff, holder and coordinator side (core/handoff, core/coordinator). */        \
  X(hint_writes_sent, "Hint writes sent to fallback nodes.")                                 \
  X(hint_writes_acknowledged, "Hint writes a fallback node acknowledged.")                   \
  X(hint_write_refusals, "Hint writes a fallback node refused.")                             \
  X(hint_acks_counted, "Hint acknowledgements counted toward a write's quorum.")             \
  X(hint_no_fallback, "Unreachable replicas for which no fallback node was left.")           \
  X(hints_stored, "Hints stored for an unreachable replica (hinted handoff).")               \
  X(hint_writes_for_self, "Hint writes for this node itself, applied as replica writes.")    \
  X(hint_write_errors, "Hint writes received that failed to store.")                         \
  X(hints_refused_backlog, "Hints refused: the target's backlog is at its bound.")           \
  X(hints_corrupt, "Stored hints found corrupt and dropped.")                                \
  X(hint_rounds_corrupt, "Delivery rounds stopped by a corrupt hint page.")                  \
  X(hint_deliveries_sent, "Hint deliveries sent to their returning replica.")                \
  X(hint_delivery_failures, "Hint deliveries that failed (refused or timed out).")           \
  X(hint_delivery_refusals, "Hint deliveries the target answered with an error.")            \
  X(hint_delivery_timeouts, "Hint deliveries that timed out.")                               \
  X(hint_replays_on_recovery, "Delivery rounds started by a target's recovery.")             \
  X(hints_delivered, "Hints delivered to their returning replica.")                          \
  X(hints_expired, "Hints dropped undelivered after hint_storage.maintenance.expiry.")       \
  X(hints_dropped_max_attempts, "Hints dropped undelivered after hints.max_attempts.")       \
  X(hint_target_pauses, "Targets whose delivery rounds paused for retry_interval.")        \
  X(hints_stalled_target_up, "Hints found stalled: target up, oldest hint kept >= retry_interval.") \
  /* Hinted handoff, target side (core/handoff). */                                          \
  X(hint_deliveries_received, "Hint deliveries received and applied.")                       \
  X(hint_delivery_errors, "Hint deliveries received that failed to apply.")                  \
  /* Membership: gossip (core/membership). */                                                \
  X(gossip_sent, "Gossip messages sent.")                                                    \
  X(gossip_received, "Gossip messages received.")                                            \
  X(gossip_members_learned, "Members first learned of through gossip.")                      \
  X(gossip_members_not_in_ring, "Gossiped members ignored: not in the ring.")                \
  X(gossip_members_invalid, "Gossiped members ignored: invalid (incarnation 0).")            \
  X(gossip_self_newer, "Gossip about this node with a newer incarnation than its own.")      \
  X(ring_mismatches, "Members first seen with a ring digest other than this node's.")        \
  X(membership_seeds_not_in_ring, "Seeds ignored at start: not in the ring.")                \
  /* Membership: SWIM probes (core/membership). */                                           \
  X(probes_sent, "Direct probes (pings) sent.")                                              \
  X(probe_acks, "Probe acknowledgements received.")                                          \
  X(probe_acks_stale, "Probe acknowledgements for no probe in flight.")                      \
  X(probe_failures, "Probes that got no acknowledgement, direct or indirect.")               \
  X(probe_indirect_requests, "Indirect probe requests sent.")                                \
  X(probe_indirect_pings, "Pings sent for another node's indirect probe.")                   \
  X(probe_indirect_relayed, "Acknowledgements relayed for another node's indirect probe.")   \
  X(probe_pings_answered, "Pings answered.")                                                 \
  X(membership_ignored_unknown_requester, "Probe messages dropped: unknown requester.")      \
  X(membership_ignored_bad_ack, "Probe acknowledgements dropped: malformed.")                \
  X(membership_ignored_bad_ping_request, "Indirect probe requests dropped: malformed.")      \
  /* Membership: judgement (core/membership, core/node). */                                  \
  X(peers_suspected, "Peers judged suspect.")                                                \
  X(peers_suspected_by_silence, "Peers judged suspect: silent past the suspicious threshold.") \
  X(peers_suspected_by_probes, "Peers judged suspect: too many failed probes.")              \
  X(peers_suspected_by_phi, "Peers judged suspect: phi over its threshold.")                 \
  X(peers_failed, "Peers judged failed.")                                                    \
  X(peers_recovered, "Peers judged alive again.")                                            \
  X(membership_local_pauses, "Pauses of this node itself detected (its timers ran late).")   \
  X(peer_transitions_dropped, "Peer state changes dropped untaken at their bound.") \
  /* Enumeration: SCAN, KEYS, DBSIZE (core/scan). */                                        \
  X(requests_scan, "Client scan requests (one page of SCAN or KEYS) received.")              \
  X(requests_key_count, "Client key count requests (DBSIZE) received.")                      \
  X(key_scans_sent, "Key scans of a token span sent to a replica.")                          \
  X(key_scan_fallbacks, "Key scans sent again to the next replica after no answer or an error.") \
  X(key_scans_answered, "Key scans a peer asked of this node, answered.")                    \
  X(key_scan_bad_replies, "Key scan replies dropped: outside the span asked.")               \
  X(keys_scan_corrupt_skipped, "Records a key scan skipped: corrupt (anti-entropy repairs them).") \
  X(key_counts_answered, "Key counts a peer asked of this node, answered.")                  \
  /* Anti-entropy (core/antientropy). */                                                   \
  X(ae_exchanges_started, "Anti-entropy exchanges started by this node.") \
  X(ae_exchanges_in_sync, "Exchanges that found the two trees equal.") \
  X(ae_exchanges_repaired, "Exchanges that found keys differing and synced them.") \
  X(ae_exchanges_failed, "Exchanges abandoned: the peer refused, failed or did not answer in time.") \
  X(ae_exchanges_triggered, "Exchanges queued at once: a peer came back or a hint for it expired.") \
  X(ae_exchanges_skipped_peer_down, "Queued exchanges skipped: the peer was not up.") \
  X(ae_tree_nodes_compared, "Tree nodes compared with a peer's.") \
  X(ae_keys_compared, "Keys compared with a peer's, listed under differing subtrees.") \
  X(ae_keys_different, "Keys found different by exchanges (missing on one side or not equal).") \
  X(ae_keys_missing_here, "Keys a peer held and this node did not.") \
  X(ae_keys_missing_there, "Keys this node held and a peer did not.") \
  X(ae_keys_sent, "Key states pushed to peers by sync batches.") \
  X(ae_bytes_sent, "Bytes of key states pushed by sync batches (encoded).") \
  X(ae_keys_received, "Key states received by sync (pushed to us or pulled by us).") \
  X(ae_bytes_received, "Bytes of key states pulled from peers (encoded).") \
  X(ae_keys_repaired_missing, "Keys repaired as missing replicas (high priority by default).") \
  X(ae_keys_repaired_inconsistent, "Keys repaired as inconsistent replicas (medium by default).") \
  X(ae_keys_repaired_background, "Keys repaired by the background pass (corrupt records refetched).") \
  X(ae_sync_batches_sent, "AeSync batches sent.") \
  X(ae_sync_errors, "Sync batches or merged states that failed.") \
  X(ae_sync_timeouts, "Sync batches unanswered by their deadline.") \
  X(ae_sync_keys_refused, "Keys in a peer's sync refused: not in a set both nodes replicate.") \
  X(ae_requests_served, "Anti-entropy requests from peers answered.") \
  X(ae_requests_refused, "Anti-entropy requests refused: no such tree, or out of bounds.") \
  X(ae_replies_malformed, "Anti-entropy replies that did not match what was asked.") \
  X(ignored_ae_replies, "Anti-entropy replies to nothing in flight (late or duplicated).") \
  X(ae_corrupt_records_found, "Corrupt records found by scans (background pass, listings, rebuilds).") \
  X(ae_corrupt_records_repaired, "Corrupt records replaced by a replica's state.") \
  X(ae_corrupt_records_deferred, "Corrupt records left for later: the repair queue was full.") \
  X(ae_background_runs, "Background repair runs started.") \
  X(ae_background_runs_cut, "Background repair runs stopped at max_duration.") \
  X(ae_background_yields, "Background steps put off because clients were busy (io_priority).") \
  X(ae_background_records_checked, "Records read by the background pass (store checksum verified).") \
  X(ae_background_records_validated, "Records the pass also decoded (validation.probability).") \
  X(ae_background_passes_completed, "Background walks that reached the end of the ring.") \
  X(ae_leaves_rebuilt, "Tree leaves rebuilt from the store after a corrupt record.") \
  X(ae_tree_leaves_checked, "Tree leaves recomputed by the update_interval check.") \
  X(ae_tree_check_mismatches, "Tree leaves the check found wrong (and fixed).") \
  X(ae_tree_rebuilds, "Whole rebuilds of the trees from the store.") \
  X(ae_tree_snapshots, "Tree snapshots staged.") \
  X(ae_tree_snapshots_unusable, "Persisted trees that could not be used at start (rebuilt).") \
  X(ae_tree_load_failures, "Starts at which the trees could not be loaded or rebuilt.") \
  X(ae_tree_stage_errors, "Tree journal or snapshot writes the storage refused.") \
  /* Tombstone collection (core/tombstones, docs/deletes.md). */ \
  X(tombstones_found, "Tombstones the collector started to watch (seen written or scanned).") \
  X(tombstone_candidates_forgotten, "Tombstones forgotten at candidates_max (a later scan finds them).") \
  X(tombstone_scans, "Collector scan steps over the store.") \
  X(tombstone_rounds_started, "Collection rounds that asked the other replicas.") \
  X(tombstones_collected, "Tombstones dropped from this node's store.") \
  X(expired_keys_collected, "Keys dropped whose state held expired values (counted in tombstones_collected too).") \
  X(tombstones_refused_replica_differs, "Tombstones kept: a replica holds another state of the key.") \
  X(tombstones_refused_no_answer, "Tombstones kept: a replica did not answer in time (down, slow, partitioned).") \
  X(tombstones_refused_changed, "Tombstones kept: the key changed between the round and the reap.") \
  X(tombstone_queries_answered, "Tombstone queries from a collector answered.") \
  X(tombstone_reaps_received, "Reap messages received from a collector.") \
  X(ignored_tombstone_replies, "Tombstone query replies to no round in flight (late or duplicated).")
// clang-format on

namespace vigil::core {

enum class Counter : std::uint16_t {
#define VIGIL_COUNTER_ENUMERATOR(name, meaning) name,
  VIGIL_NODE_COUNTERS(VIGIL_COUNTER_ENUMERATOR)
#undef VIGIL_COUNTER_ENUMERATOR
};

struct CounterDeclaration {
  std::string_view name;
  std::string_view meaning;  // one line, used as the metric's HELP
};

// Every counter, in declaration order (index = the enum's value).
inline constexpr std::array counter_declarations = {
#define VIGIL_COUNTER_DECLARATION(name, meaning) CounterDeclaration{#name, meaning},
    VIGIL_NODE_COUNTERS(VIGIL_COUNTER_DECLARATION)
#undef VIGIL_COUNTER_DECLARATION
};
inline constexpr std::size_t counter_count = counter_declarations.size();

constexpr std::size_t counter_index(Counter counter) {
  return static_cast<std::size_t>(counter);
}
constexpr std::string_view counter_name(Counter counter) {
  return counter_declarations[counter_index(counter)].name;
}
constexpr std::string_view counter_meaning(Counter counter) {
  return counter_declarations[counter_index(counter)].meaning;
}
// The counter called `name`; nullopt when none is.
constexpr std::optional<Counter> counter_named(std::string_view name) {
  for (std::size_t i = 0; i < counter_count; ++i) {
    if (counter_declarations[i].name == name) return static_cast<Counter>(i);
  }
  return std::nullopt;
}

// The replies_code_<code> counter of a client reply's code.
Counter reply_code_counter(Code code);

// A counter named at the call site. From a literal the name is looked up at compile time:
// `CounterId("replies_ok")` is Counter::replies_ok, `CounterId("no_such")` does not
// compile.
class CounterId {
 public:
  constexpr CounterId(Counter counter) : counter_(counter) {}  // NOLINT: implicit on purpose
  consteval CounterId(const char* name) : counter_(declared(name)) {}  // NOLINT: ditto
  constexpr Counter counter() const { return counter_; }

 private:
  static consteval Counter declared(const char* name) {
    const std::optional<Counter> counter = counter_named(name);
    if (!counter) throw "not a counter of core/counters.h";  // a compile error, never run
    return *counter;
  }
  Counter counter_;
};

// The counter named at run time by `name`. REQUIRES (asserted): it is declared.
Counter counter_at_run_time(std::string_view name);

// One node's counters: a value per declared counter, zero until added to.
class NodeCounters {
 public:
  struct Entry {
    Counter counter;
    std::string_view name;
    std::uint64_t value;
  };

  void add(CounterId id, std::uint64_t amount = 1) {
    values_[counter_index(id.counter())] += amount;
  }
  // A name chosen at run time between literals (`ok ? "a" : "b"`, a `const char*`
  // parameter): looked up on each call, asserted to be declared. Literals take the
  // overload above and are checked at compile time.
  template <class Name>
    requires std::is_same_v<std::remove_cvref_t<Name>, const char*>
  void add(Name&& name, std::uint64_t amount = 1) {
    add(counter_at_run_time(name), amount);
  }
  std::uint64_t get(CounterId id) const { return values_[counter_index(id.counter())]; }

  // Every counter with its value, zeros included, in declaration order.
  class Iterator {
   public:
    constexpr Iterator(const NodeCounters* counters, std::size_t index)
        : counters_(counters), index_(index) {}
    Entry operator*() const {
      const auto counter = static_cast<Counter>(index_);
      return Entry{counter, counter_name(counter), counters_->values_[index_]};
    }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const Iterator& other) const = default;

   private:
    const NodeCounters* counters_;
    std::size_t index_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, counter_count); }

 private:
  std::array<std::uint64_t, counter_count> values_{};
};

}  // namespace vigil::core
