// The copies behind an acknowledgement, checked at the moment of the acknowledgement.
//
// Why here and not at the end of the run: a node that acknowledges too early (before the
// commit that covers it, or before W replicas committed) loses nothing a read can see
// until a later failure hits the few copies there are; a sweep whose crashes miss that
// window passes. So every ok answer to a put or delete is checked when the node sends it:
// the write's state (the reply's context: replicas merge whole states, so every copy of
// it includes that clock) must be committed -- in the sense the node was told, a commit
// that returned ok -- on at least W nodes, counting a key's record and the hints held for
// it on fallback nodes (sloppy quorum). Fewer is a violated invariant: the run stops and
// names the key, the counts and the time.
//
// Not checked once a disk fault was injected anywhere in the run: a node whose disk lied
// (lose_write) or rotted (corrupt) holds fewer copies than it was told, and the counts
// would blame the protocol for the disk.

#include <string>

#include "core/assert.h"
#include "core/wire/codec.h"
#include "sim/simulation.h"

namespace vigil::sim {

namespace {

bool includes_write(const std::string& state, const core::VectorClock& written) {
  const core::Result<core::SiblingSet> set = core::decode_sibling_set(state);
  return set.ok() && set->context().includes(written);
}

}  // namespace

void Simulation::check_copies_at_ack(const core::Key& key, const core::ClientReply& reply) {
  if (reply.replicas_needed == 0 || !disk_faulted_.empty()) return;
  // Stops counting at W: the promise is "at least W", and decoding every replica's state on
  // every acknowledgement was a tenth of the simulator's time (docs/performance.md).
  std::uint32_t copies = 0;
  for (const auto& host : hosts_) {
    if (copies >= reply.replicas_needed) break;
    const store::MemoryStore& store = host->store();
    if (const auto state = store.committed_state(key); state && includes_write(*state, reply.context)) {
      copies += 1;
    }
    for (const std::string& hinted : store.committed_hint_states(key)) {
      if (copies >= reply.replicas_needed) break;
      if (includes_write(hinted, reply.context)) copies += 1;
    }
  }
  count("acks_checked_for_copies");
  VIGIL_ASSERT(copies >= reply.replicas_needed,
               "an acknowledged write of key '" + key + "' at " + std::to_string(now_us_) +
                   "us has " + std::to_string(copies) + " committed copies, fewer than the " +
                   std::to_string(reply.replicas_needed) + " its W promised");
}

}  // namespace vigil::sim
