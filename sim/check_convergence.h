#pragma once
// convergence: after the final heal and quiesce, does every replica of every key hold the
// same state (Dynamo 4.7: anti-entropy makes replicas converge by themselves)? The stores
// are compared directly, never through reads: a read at `all` repairs what it reaches, so
// it would hide exactly the divergence this check is for.
//
// The simulator samples the divergence while the run ends (sim/simulation_convergence.cpp)
// and records it in SimulationResult::convergence; the check turns that record and the
// nodes' anti-entropy counters into a verdict.

#include <cstdint>
#include <string>
#include <vector>

#include "core/ring/ring.h"
#include "core/types.h"
#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "store/memory_store.h"

namespace vigil::sim {

// How many keys of a set of stores diverge. A key is every key any store holds (staged or
// committed: the live view names it); its replicas are the first `replicas` nodes of its
// preference list in `ring`; it diverges when those replicas' committed states
// (MemoryStore::committed_state: what each node was told is durable) are not all equal.
// A replica holding no record while another holds one diverges; a record whose bytes were
// damaged (a `corrupt` fault) differs from its healthy copies. Equal means equal bytes, or
// bytes that decode into equal sibling sets. Nodes not on a key's preference list are not
// compared for it (a stale copy there serves no read).
struct Divergence {
  std::uint64_t keys = 0;        // distinct keys held by any store
  std::uint64_t divergent = 0;   // of those, keys whose replicas differ
  std::vector<std::string> examples;  // the first few, for people
};
// `stores[i]` belongs to node `ids[i]`; every node the ring names is in `ids`.
// Cost: O(R log R) for R records over all stores, plus N committed lookups per key.
Divergence find_divergence(const std::vector<store::MemoryStore*>& stores,
                           const std::vector<core::NodeId>& ids, const core::Ring& ring,
                           std::uint32_t replicas);

// counts: divergent_keys (at the end, after the quiesce and before the final reads),
//         keys_checked (distinct keys held then), samples (divergence samples taken),
//         keys_streamed, bytes_streamed, keys_different (summed node counters ae_keys_sent,
//         ae_bytes_sent, ae_keys_different);
// ratios: converge_time_s (from the final heal to the first sample with no divergent key;
//         absent when no sample had none), over_streaming_ratio (keys_streamed /
//         keys_different; 0 when no exchange found a difference), max_converge_time_s
//         (when given).
// ok: divergent_keys == 0, and converge_time_s <= spec.max_of["converge_time_s"] when
// that bound is given.
CheckResult check_convergence(const SimulationResult& result, const CheckSpec& spec);

}  // namespace vigil::sim
