#pragma once
// The node's options from its configuration: the one place that maps a Config onto what
// core::Node takes.

#include "config/config.h"
#include "core/node/node.h"

namespace vigil::config {

// quorum_settings.N -> replicas; consistency_levels eventual/quorum/strong -> one/quorum/
// all (resolved against N by config::quorum_sizes); timing; conflict_resolution;
// client.set_context -> set_context;
// vector_clock -> sibling_limits; read_repair enabled/probability; limits (key and value
// sizes, requests in flight); gossip_protocol, phi_accrual, failure_detector -> membership;
// node.listen -> address, node.seeds -> seeds (id, "host:port"); quorum_settings.R/W ->
// default_level, the counts of Consistency::default_level, the level a client connection
// starts with until it names one.
// REQUIRES: validate(config).ok() (asserted where the node relies on it).
core::NodeOptions node_options_from_config(const Config& config);

}  // namespace vigil::config
