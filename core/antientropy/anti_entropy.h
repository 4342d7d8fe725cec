#pragma once
// The anti-entropy part of a node (Dynamo 4.7; Riak's tictac AAE; seed sections 2.2 and
// 4.2-4.3): tictac trees kept with every write, exchanges that compare them with the other
// replicas and ship only the keys that differ, and the scheduled background pass that finds
// corrupt records and replaces them from a replica. Theory of operation in
// anti_entropy.cpp. Internal to core/node/ and its parts; the contract is core::Node.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/node/node_context.h"

namespace vigil::core {

class Replica;
struct AntiEntropyState;

// One tree as /status shows it.
struct TreeStatus {
  std::vector<NodeId> replicas;
  std::uint64_t root_hash = 0;
  std::uint64_t keys = 0;
  struct Peer {
    NodeId peer;
    std::optional<Instant> last_exchange;
    std::string outcome;  // empty before the first exchange
  };
  std::vector<Peer> peers;
};

class AntiEntropy final : public KeyStateListener {
 public:
  // Builds the trees (persisted ones, or a rebuild from storage: core/antientropy/
  // range_trees.h) and arms the schedules. `context` and `replica` outlive it.
  AntiEntropy(NodeContext& context, Replica& replica);
  ~AntiEntropy() override;
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // AeTreeRequest, AeTreeReply, AeKeysRequest, AeKeysReply, AeSync, AeSyncReply: handled
  // here (true); false for any other message.
  bool handle_message(const Now& now, const NodeId& from, const Message& message);
  // A peer came back (suspect or failed -> alive): compare with it at once.
  void handle_peer_transition(const Now& now, const PeerTransition& transition);
  // A hint for `target` expired undelivered: its data is now missing there.
  void handle_hint_expired(const Now& now, const NodeId& target);
  // Exchanges with every peer of every tree, now (`vigil cluster repair`).
  void request_exchanges(const Now& now);
  // The dispatcher tells how busy the node's client path is (background work yields).
  void set_client_load(std::size_t requests_in_flight);
  void handle_timeout(const Now& now);
  std::optional<Instant> poll_timeout() const;

  // A key's staged state changed (NodeContext::stage_key); a read found one corrupt.
  void note_write(const KeyWrite& after, const SiblingSet* before,
                  bool before_unknown) override;
  void note_corrupt(const Key& key) override;
  // The end of every input: leaves a corrupt record made suspect are rebuilt from the
  // store, so an exchange never compares a leaf known to be wrong.
  void end_input();
  // Stages what the trees owe the storage (the journal row of every change since the last
  // call, a snapshot when due). Called once per commit, just before it begins
  // (Node::stage_for_commit): one row per commit, not per input.
  void stage();

  std::vector<TreeStatus> status() const;
  // Exchanges finished since start (whatever their outcome), and running or queued.
  std::uint64_t exchanges_completed() const;
  std::size_t exchanges_pending() const;
  void check_invariants() const;

 private:
  std::unique_ptr<AntiEntropyState> state_;
};

}  // namespace vigil::core
