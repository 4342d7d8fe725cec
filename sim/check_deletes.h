#pragma once
// The delete checks (issue 13): no_resurrection reads the history and asks whether a value
// whose deletion was acknowledged was ever read again; tombstones_collected reads the end
// state of the stores and the collectors' counters and asks whether the tombstones went
// away (docs/deletes.md, docs/simulator.md).

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/node/options.h"
#include "sim/checkers.h"
#include "sim/history.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

// no_resurrection. Every delete of the workload but one kind (set mode under set_context
// coordinator: a plain DEL with no read) is the second half of a read-delete cycle: the
// same client read the key (its "context read", the answered get of the key by that client
// that completed last before the delete was invoked; the delete is invoked the instant it
// completes, sim/workload.cpp) and the delete carries that read's context. So a delete D
// covers exactly the elements (for_each_element) its context read showed.
//
// A read R (final reads included) resurrects element e when
//   - e is covered by a delete D of R's key that was acknowledged (Outcome::ok),
//   - R was invoked after D completed, and R shows e, and
//   - e is not excused: by a put P of the key, not refused, that may write e -- e's own
//     put (still in flight when D's read showed it, it may land again after D: a
//     coordinator's retry is a new version) or, in read_modify_write (a put there writes
//     back what it read), a put whose own context read showed e -- and that was not over
//     before D began: P completed after D's context read was invoked (or is indeterminate
//     or pending: it may land late), and was invoked before R completed (R may see it).
//     Such a put keeps e as a sibling of D's tombstone (Dynamo 4.4), or writes it again
//     after D: the "a later acknowledged write of that key". The read that showed
//     e to a put after D is not excused by that put (the put came after it): it counts.
// Indeterminate deletes cover nothing (they may not have happened) and are counted apart.
// counts: deletes_acknowledged, deletes_indeterminate (deletes that carried a context
//         read; refused ones are in neither), deletes_unchecked (deletes with no context
//         read to say what they covered: plain deletes of set mode under coordinator),
//         reads_checked (answered reads invoked after an acknowledged covering delete of
//         their key completed), resurrections (those reads showing at least one
//         resurrected element), final_resurrections (of those, final reads).
// ok: resurrections == 0; with `final_reads_only`, final_resurrections == 0. Under sloppy
// quorums (more nodes than N, partitions) a read can miss an acknowledged delete as it can
// miss an acknowledged put (stale_reads), so there only the final reads -- at `all`, after
// the heal and the quiesce -- can tell a resurrection from a stale read; the count over
// all reads stays in the report. Examples name only gated reads.
// Expiring puts (workload.expire) are deletes that take effect once their expiry has
// surely passed everywhere: `expiry_slack_us` after completed + expiry (expiry_slack_us
// below). counts add expiring_puts_acknowledged.
CheckResult check_no_resurrection(const History& history, WorkloadMode mode,
                                  core::SetContext set_context = core::SetContext::read,
                                  bool final_reads_only = false,
                                  std::int64_t expiry_slack_us = 0);

// How far two nodes' wall clocks can be apart in `scenario`: twice the largest sum of one
// node's clock faults (|skew| + |jump| + |drift| over the whole run), plus 1 ms. A key
// expires on every node by then (docs/expiry.md, "Clock skew").
std::int64_t expiry_slack_us(const Scenario& scenario);

// Per key, the elements an expiring put lawfully removed by the key's final read: an
// acknowledged expiring put covered them (its own element, and what its context read
// showed) and expired before that read, and no put without an expiry carried them again
// after it completed. no_lost_writes excuses them (sim/checkers.h).
std::map<core::Key, std::set<std::string>> expired_elements(const History& history,
                                                            WorkloadMode mode,
                                                            core::SetContext set_context,
                                                            std::int64_t slack_us);

// tombstones_collected: does a deleting store stop growing? Reads
// SimulationResult::tombstones (the stores after the quiesce, before the final reads) and
// the node counters.
// counts: collected (summed node counter tombstones_collected), held_at_end (records, over
//         all nodes' stores, whose state is dead: only tombstones or expired values, SiblingSet::is_dead_at),
//         keys_held_at_end (distinct keys with such a record), records_at_end (all
//         records), rounds_started, refused_replica_differs, refused_no_answer,
//         refused_changed (summed counters tombstone_*), deletes_acknowledged (in the
//         history), keys_ending_deleted (keys whose last write, by completion, was an
//         acknowledged delete, with no write pending: they end as tombstones unless
//         collected), max_held (the bound).
// ok: held_at_end <= max_held (spec.max; default 0), and collected > 0 when some key ended
//     deleted (a key written again after its delete needs no collection, so a run where
//     every delete was overwritten proves nothing either way and passes on held_at_end).
CheckResult check_tombstones_collected(const SimulationResult& result, const CheckSpec& spec);

}  // namespace vigil::sim
