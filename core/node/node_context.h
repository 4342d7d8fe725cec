#pragma once
// What every part of a node shares (core/node/node.cpp composes the parts): its options and
// ring, its storage, its seeded generator, its counters, the one outbox every part writes
// to (messages, and the client replies), the sticky storage failure, and its identity
// (incarnation, actor name). Everything else is owned by the part it belongs to: requests
// in flight by the coordinator, hints by the handoff, the view by the membership.
// Internal to core/node/ and its parts; the contract is core::Node (core/node/node.h).

#include <cstdint>
#include <optional>
#include <vector>

#include "core/membership/membership.h"
#include "core/node/client.h"
#include "core/counters.h"
#include "core/node/node_storage.h"
#include "core/node/options.h"
#include "core/random.h"
#include "core/ring/ring.h"
#include "core/routing/router.h"
#include "core/status.h"
#include "core/versions/version.h"
#include "core/wire/messages.h"
#include "core/wire/outbox.h"

namespace vigil::core {

// Request ids, and hint ids: (incarnation << sequence_bits) | sequence (see node.h).
inline constexpr unsigned sequence_bits = 40;
inline constexpr std::uint64_t incarnation_max = (std::uint64_t{1} << (64 - sequence_bits)) - 1;
inline constexpr std::uint64_t sequence_max = (std::uint64_t{1} << sequence_bits) - 1;
inline constexpr const char* incarnation_meta_name = "node.incarnation";

// Told of every change of a key's stored state and of every corrupt record a read meets
// (the anti-entropy trees: core/antientropy/anti_entropy.h).
class KeyStateListener {
 public:
  virtual ~KeyStateListener() = default;
  // `before`: the state replaced (nullptr: none); before_unknown: the old record was
  // corrupt, so what it held is not known.
  // `after` carries the new state, its token and its encoding (empty state: erased).
  virtual void note_write(const KeyWrite& after, const SiblingSet* before,
                          bool before_unknown) = 0;
  virtual void note_corrupt(const Key& key) = 0;
};

struct NodeContext {
  // Checks the options (asserted, as listed at NodeOptions), reads the stored epoch and
  // takes the next one (staged in meta): this life's incarnation and first actor name.
  NodeContext(NodeOptions options_in, Ring ring_in, NodeStorage& storage_in, std::uint64_t seed);
  NodeContext(const NodeContext&) = delete;
  NodeContext& operator=(const NodeContext&) = delete;

  NodeOptions options;
  Ring ring;
  NodeStorage& storage;
  Random random;  // the node's only randomness (actor names, membership, forward retry jitter)
  NodeCounters counters;
  // Health and circuit breakers of the peers (core/node/node_routing.cpp feeds it health,
  // the coordinator request outcomes). After `counters`, which it counts into.
  Router router;
  std::optional<Status> storage_failure;  // sticky once a commit failed

  std::uint64_t incarnation = 0;  // of this life: the high bits of our request and hint ids
  std::uint64_t epoch_max = 0;    // the largest epoch stored in meta (>= incarnation)
  NodeId actor;                   // the name new dots carry: "<id>.<epoch>.<hex>" (node.h)
  // The largest dot counter `actor` minted, on any key: every new dot is above it, so this
  // actor never mints one dot twice, even for a key whose tombstone was collected while a
  // replica still held a version covering the old dot (kv679; docs/deletes.md). In memory:
  // an actor lives one life, and a restart takes a new one.
  std::uint64_t dots_minted = 0;
  // Set when renew_actor() staged a new epoch that is not durable yet: nothing that may
  // carry the new actor's dots may leave before the commit that makes it durable (the
  // driver holds every message of that batch; core/node/node_driver.h).
  bool identity_staged = false;

  Outbox outbox;                     // messages, in the order the parts sent them
  std::vector<ClientReply> replies;  // client answers, in order

  // The node's membership (null when disabled: every peer is up). Set by core::Node.
  const Membership* membership = nullptr;
  // The anti-entropy trees (set by core::Node; null in a context without them).
  std::vector<KeyStateListener*> key_states;  // told of every staged change, in order

  const NodeId& self() const { return options.id; }
  void send(const NodeId& to, Message message) { outbox.send(to, std::move(message)); }
  // Stages a key's new state: the one way any part changes a key (coordinator writes,
  // replica merges, hint deliveries, repairs, tombstone collection), so the trees stay in
  // step with the data. An empty `after` erases the key's record.
  Status stage_key(const Key& key, const SiblingSet* before, bool before_unknown,
                   const SiblingSet& after);
  // A read found the key's record corrupt.
  void note_corrupt(const Key& key);
  // Takes a fresh actor epoch (staged in meta) so no new dot can repeat one minted before.
  void renew_actor();
  // The peer is neither suspect nor failed in this node's view (always true with
  // membership disabled). The coordinator picks hint fallbacks with it, the handoff
  // replays to up targets only.
  bool peer_is_up(const NodeId& peer) const;
};

void add_version_counters(NodeCounters& counters, const VersionCounters& version_counters);
WireStatus to_wire(const Status& status);
Status from_wire(const WireStatus& status);
// invalid_argument unless 1 <= key size <= key_size_bytes_max.
Status check_key(const NodeOptions& options, const Key& key);

}  // namespace vigil::core
