#pragma once
// The tombstone collector of a node: finds the keys whose state is only tombstones, and
// drops them from every replica once that is safe (docs/deletes.md; theory of operation in
// tombstone_collector.cpp). Internal to core/node/ and its parts; the contract is
// core::Node.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/node/node_context.h"

namespace vigil::core {

class TombstoneCollector final : public KeyStateListener {
 public:
  // Registers itself as a key-state listener of `context`, which outlives it.
  explicit TombstoneCollector(NodeContext& context);
  TombstoneCollector(const TombstoneCollector&) = delete;
  TombstoneCollector& operator=(const TombstoneCollector&) = delete;

  // TombstoneQuery, TombstoneQueryReply, TombstoneReap: handled here (true); false for any
  // other message.
  bool handle_message(const Now& now, const NodeId& from, const Message& message);
  void handle_timeout(const Now& now);
  std::optional<Instant> poll_timeout() const;
  // The end of every input: tombstones written during it become candidates, seen `now`.
  void end_input(const Now& now);

  void note_write(const KeyWrite& after, const SiblingSet* before, bool before_unknown) override;
  void note_corrupt(const Key& key) override;

  // Tombstones this node knows it holds (written here or found by a scan since start; one
  // lap of the scan over the store finds them all, up to candidates_max).
  std::size_t tombstones_held() const { return candidates_.size(); }
  void check_invariants() const;

 private:
  struct Candidate {
    std::uint64_t state_hash = 0;
    // The wall time from which every version is dead (0 for tombstones; the latest expiry
    // of a state that holds expiring values): no round before it (docs/expiry.md).
    WallMicros dead_from = 0;
    Instant first_seen;           // grace counts from here (this node's monotonic clock)
    Instant not_before;           // after a refused round: wait a scan interval
    RequestId round = 0;          // the round it is in, 0 when none
  };
  struct Round {
    std::vector<TombstoneEntry> entries;
    std::vector<NodeId> peers;                                // the others of the list
    std::map<NodeId, std::vector<std::uint8_t>> answers;      // peer -> holds
    Instant deadline;
  };

  // A state that will read as absent by itself (tombstones and expiring values only), and
  // from when: its hash and dead_from.
  struct Mortal {
    std::uint64_t state_hash = 0;
    WallMicros dead_from = 0;
  };
  void remember(const Instant& now, const Key& key, const Mortal& mortal);
  void scan_step(const Now& now);
  void schedule_tick(const Now& now);
  void start_rounds(const Now& now);
  void start_round(const Now& now, const std::vector<NodeId>& replicas,
                   std::vector<TombstoneEntry> entries);
  void finish_round(const Now& now, RequestId id, bool timed_out);
  void refuse(const Now& now, const Key& key, const char* counter);
  // Drops the key from this node's store if its state still hashes to `state_hash` and is
  // dead at `now` (on this node's clock).
  bool reap_local(const Now& now, const Key& key, std::uint64_t state_hash);
  bool vouches_for(const Now& now, const TombstoneEntry& entry);
  void answer_query(const Now& now, const NodeId& from, const TombstoneQuery& query);
  void handle_reply(const Now& now, const NodeId& from, const TombstoneQueryReply& reply);
  void handle_reap(const Now& now, const TombstoneReap& reap);
  // The hash of the key's stored state when it is dead at `now` (only tombstones and
  // expired values); nullopt otherwise.
  std::optional<std::uint64_t> tombstone_hash(const Now& now, const Key& key,
                                              SiblingSet* state_out);

  NodeContext& context_;
  std::map<Key, Candidate> candidates_;
  std::map<Key, std::optional<Mortal>> written_;  // this input; nullopt = live for good
  std::map<RequestId, Round> rounds_;
  std::optional<std::pair<Token, Key>> scan_after_;  // resume point of the scan
  // A lap of the scan is owed: at start (tombstones of an earlier life), and after a
  // candidate was forgotten at candidates_max. Otherwise every new tombstone is seen as it
  // is written, and an idle node has no timer at all.
  bool lap_needed_ = true;
  bool forgot_in_lap_ = false;        // a candidate was forgotten since this lap began
  bool started_ = false;              // the first timeout armed the schedule
  std::optional<Instant> next_tick_;  // the next scan step and round start
  std::uint64_t next_round_sequence_ = 1;
};

}  // namespace vigil::core
