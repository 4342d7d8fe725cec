// SiblingSet: the state of one key on one replica, a set of dotted versions.
//
// Theory of operation (Preguica et al., "Dotted Version Vectors"; Riak 2.0's dvvset;
// Dynamo section 4.4 for sibling semantics).
// - write: the coordinator mints a dot one past everything it and the client's context
//   know of itself, so a lagging coordinator never reuses a dot another replica holds;
//   the new version supersedes exactly the versions the client's context covers (and
//   absorbs their histories, as merge does). Two writes with the same stale context
//   therefore stay siblings instead of one silently replacing the other (what plain
//   per-object vector clocks get wrong).
// - merge: the union by dot of two states, then normalisation. The union is a join (per
//   dot, contexts merge; different content under one dot, which only a lost committed
//   write can cause, keeps the larger (timestamp, checksum, value)). Normalisation drops
//   every version another covers *and absorbs its history into the coverers*: happened-
//   before is transitive, and recording it makes "covered" transitive even after one
//   replica forgot the middle of a chain, so the result does not depend on merge order.
// - timestamp mode (the seed's rule: causal order first, then timestamp, then a
//   deterministic tiebreak) keeps the survivor with the largest (timestamp, dot), which
//   absorbs the losers' histories so they cannot come back from a lagging replica (Riak
//   merges the losers' vector clocks into the winner's the same way). "Causal first, then
//   timestamp" is only a consistent (transitive) order when a causally later version
//   never carries a smaller timestamp; with skewed clocks it would, and the winner would
//   depend on merge order (A beats C by timestamp, B descends A, C beats B by timestamp).
//   So write() raises the new timestamp past every timestamp in its context (a hybrid
//   logical clock, Kulkarni et al.): then "covers" implies "larger (timestamp, dot)", and
//   the winner is simply the largest (timestamp, dot) among everything ever merged.
// - the siblings_max bound drops the oldest survivors by (timestamp, dot), counted. They
//   stay uncovered, so a replica that still holds one can bring it back once a write has
//   made room; until then each merge drops it again. At the bound merge stays commutative
//   and idempotent but not associative (which versions are the oldest k can depend on
//   what an earlier merge already dropped).
// Damaged input never asserts: a dot conflict is counted and resolved deterministically,
// and so is a cycle of versions that cover each other (possible only after a lost write).

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/versions/pn_counter.h"
#include "core/versions/version.h"

namespace vigil::core {

namespace {

// The order timestamp mode and the siblings_max bound use: later is larger.
bool earlier(const Version& a, const Version& b) {
  return std::tie(a.timestamp_us, a.dot) < std::tie(b.timestamp_us, b.dot);
}

bool same_content(const Version& a, const Version& b) {
  return a.timestamp_us == b.timestamp_us && a.checksum == b.checksum &&
         a.expires_at_us == b.expires_at_us && a.kind == b.kind && a.value == b.value;
}

bool content_less(const Version& a, const Version& b) {
  return std::tie(a.timestamp_us, a.checksum, a.expires_at_us, a.kind, a.value) <
         std::tie(b.timestamp_us, b.checksum, b.expires_at_us, b.kind, b.value);
}

WallMicros one_past(WallMicros timestamp) {
  return timestamp == std::numeric_limits<WallMicros>::max() ? timestamp : timestamp + 1;
}

std::string dot_text(const Dot& dot) {
  return "(" + dot.node + ", " + std::to_string(dot.counter) + ")";
}

// Two copies of one dot: contexts join; content is the larger (a lost write reused the
// dot), which is a max and so keeps the union a join.
void join_same_dot(Version& ours, const Version& theirs, VersionCounters& counters) {
  if (!same_content(ours, theirs)) {
    ++counters.dot_conflicts;
    if (content_less(ours, theirs)) {
      ours.timestamp_us = theirs.timestamp_us;
      ours.value = theirs.value;
      ours.checksum = theirs.checksum;
      ours.expires_at_us = theirs.expires_at_us;
      ours.kind = theirs.kind;
    }
  }
  ours.context.merge(theirs.context);
}

// Both inputs sorted by unique dots; so is the result.
std::vector<Version> union_by_dot(const std::vector<Version>& a, const std::vector<Version>& b,
                                  VersionCounters& counters) {
  std::vector<Version> result;
  result.reserve(a.size() + b.size());
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->dot < ib->dot)) {
      result.push_back(*ia++);
    } else if (ia == a.end() || ib->dot < ia->dot) {
      result.push_back(*ib++);
    } else {
      result.push_back(*ia++);
      join_same_dot(result.back(), *ib++, counters);
    }
  }
  return result;
}

// Every version absorbs the histories of the versions it covers, to a fixpoint, so that
// afterwards covering is transitive. Terminates: contexts only grow, within the finite
// join of all histories present. In sets built by write() and merge() without pruning a
// coverer already holds what it covers and one pass changes nothing.
void absorb_covered(std::vector<Version>& versions) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (Version& coverer : versions) {
      for (const Version& covered : versions) {
        if (&coverer == &covered || !coverer.covers(covered.dot)) continue;
        const VectorClock history = covered.history();
        if (coverer.context.includes(history)) continue;
        coverer.context.merge(history);
        changed = true;
      }
    }
  }
}

// Drops every version covered by another. Versions that cover each other (a cycle, only
// after a lost write reused a dot) are resolved to the largest (timestamp, dot), counted
// as a dot conflict. REQUIRES: absorb_covered ran (covering is transitive).
void drop_covered(std::vector<Version>& versions, VersionCounters& counters) {
  std::vector<bool> dropped(versions.size(), false);
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (std::size_t j = 0; j < versions.size() && !dropped[i]; ++j) {
      if (i == j || !versions[j].covers(versions[i].dot)) continue;
      const bool mutual = versions[i].covers(versions[j].dot);
      if (!mutual) {
        dropped[i] = true;
      } else if (earlier(versions[i], versions[j])) {
        dropped[i] = true;
        ++counters.dot_conflicts;
      }
    }
  }
  std::vector<Version> kept;
  kept.reserve(versions.size());
  for (std::size_t i = 0; i < versions.size(); ++i) {
    if (!dropped[i]) kept.push_back(std::move(versions[i]));
  }
  versions = std::move(kept);
}

// Timestamp mode: one winner, the largest (timestamp, dot), absorbing the others.
void resolve_to_one(std::vector<Version>& versions) {
  if (versions.size() <= 1) return;
  const auto winner_it = std::max_element(versions.begin(), versions.end(), earlier);
  Version winner = std::move(*winner_it);
  for (auto it = versions.begin(); it != versions.end(); ++it) {
    if (it != winner_it) winner.context.merge(it->history());
  }
  versions.clear();
  versions.push_back(std::move(winner));
}

// Siblings mode: over the bound, the oldest go. They are not absorbed into the survivors:
// a vector clock can only claim a prefix of a node's dots, so absorbing a dropped (n, 4)
// would claim an unrelated (n, 3) too, and keeping a dropped version uncovered lets it
// come back from a replica that still holds it once a write has made room (the client
// then sees it), instead of losing it for good. Until then every merge drops it again.
void enforce_siblings_max(std::vector<Version>& versions, std::size_t siblings_max,
                          VersionCounters& counters) {
  if (versions.size() <= siblings_max) return;
  std::vector<std::size_t> by_age(versions.size());
  for (std::size_t i = 0; i < by_age.size(); ++i) by_age[i] = i;
  std::sort(by_age.begin(), by_age.end(), [&versions](std::size_t a, std::size_t b) {
    return earlier(versions[a], versions[b]);
  });
  const std::size_t drop_count = versions.size() - siblings_max;
  std::vector<bool> dropped(versions.size(), false);
  for (std::size_t k = 0; k < drop_count; ++k) dropped[by_age[k]] = true;
  std::vector<Version> kept;
  kept.reserve(siblings_max);
  for (std::size_t i = 0; i < versions.size(); ++i) {
    if (!dropped[i]) kept.push_back(std::move(versions[i]));
  }
  versions = std::move(kept);
  counters.siblings_dropped += drop_count;
}

void normalise(std::vector<Version>& versions, ConflictMode mode, const SiblingLimits& limits,
               VersionCounters& counters) {
  absorb_covered(versions);
  drop_covered(versions, counters);
  if (mode == ConflictMode::timestamp) {
    resolve_to_one(versions);
  } else {
    enforce_siblings_max(versions, limits.siblings_max, counters);
  }
}

// The structural invariants (everything but checksums, which cost a pass over the values).
void check_structure(const std::vector<Version>& versions, ConflictMode mode,
                     const SiblingLimits& limits) {
  VIGIL_ASSERT(versions.size() <= limits.siblings_max, "sibling set over siblings_max");
  VIGIL_ASSERT(mode == ConflictMode::siblings || versions.size() <= 1,
               "timestamp mode keeps at most one version");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const Version& version = versions[i];
    VIGIL_ASSERT(is_valid_node_id(version.dot.node) && version.dot.counter > 0,
                 "invalid dot " + dot_text(version.dot));
    VIGIL_ASSERT(i == 0 || versions[i - 1].dot < version.dot,
                 "versions not sorted by unique dots at " + dot_text(version.dot));
    for (std::size_t j = 0; j < versions.size(); ++j) {
      VIGIL_ASSERT(i == j || !versions[j].covers(version.dot),
                   dot_text(version.dot) + " is covered by " + dot_text(versions[j].dot));
    }
  }
}

Status check_version_fields(const Version& version) {
  if (!is_valid_node_id(version.dot.node)) {
    return error(Code::invalid_argument, "invalid dot node id");
  }
  if (version.dot.counter == 0) return error(Code::invalid_argument, "dot counter is 0");
  if (version.expires_at_us < 0) return error(Code::invalid_argument, "negative expiry");
  if (version.expires_at_us != 0 && !version.value) {
    return error(Code::invalid_argument, "a tombstone with an expiry");
  }
  if (version.kind == ValueKind::counter) {
    if (!version.value) return error(Code::invalid_argument, "a tombstone marked a counter");
    if (auto counter = decode_pn_counter(*version.value); !counter.ok()) {
      return error(Code::invalid_argument, counter.status().message());
    }
  } else if (version.kind != ValueKind::bytes) {
    return error(Code::invalid_argument, "unknown value kind");
  }
  for (const auto& [node, entry] : version.context.entries()) {
    if (!is_valid_node_id(node)) {
      return error(Code::invalid_argument, "invalid node id in context");
    }
    if (entry.counter == 0) {
      return error(Code::invalid_argument, "context counter is 0 for node " + node);
    }
  }
  return Status::ok_status();
}

Status validate(const std::vector<Version>& versions) {
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const std::string where = "versions[" + std::to_string(i) + "]: ";
    if (Status status = check_version_fields(versions[i]); !status.ok()) {
      return error(status.code(), where + status.message());
    }
    if (i > 0 && !(versions[i - 1].dot < versions[i].dot)) {
      return error(Code::invalid_argument, where + "dot " + dot_text(versions[i].dot) +
                                               " is not after the previous dot " +
                                               dot_text(versions[i - 1].dot));
    }
  }
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (std::size_t j = 0; j < versions.size(); ++j) {
      if (i == j || !versions[j].covers(versions[i].dot)) continue;
      return error(Code::invalid_argument,
                   "versions[" + std::to_string(i) + "]: dot " + dot_text(versions[i].dot) +
                       " is covered by versions[" + std::to_string(j) + "]");
    }
  }
  for (std::size_t i = 0; i < versions.size(); ++i) {
    if (versions[i].checksum != value_checksum(versions[i].value, versions[i].kind)) {
      return error(Code::corruption,
                   "versions[" + std::to_string(i) + "]: checksum does not match the value");
    }
  }
  return Status::ok_status();
}

}  // namespace

Result<SiblingSet> SiblingSet::from_versions(std::vector<Version> versions) {
  if (Status status = validate(versions); !status.ok()) return status;
  SiblingSet set;
  set.versions_ = std::move(versions);
  return set;
}

bool SiblingSet::is_deleted() const {
  if (versions_.empty()) return false;
  return std::all_of(versions_.begin(), versions_.end(),
                     [](const Version& version) { return version.is_tombstone(); });
}

bool SiblingSet::is_dead_at(WallMicros now) const {
  if (versions_.empty()) return false;
  return std::all_of(versions_.begin(), versions_.end(),
                     [now](const Version& version) { return version.is_dead_at(now); });
}

VectorClock SiblingSet::context() const {
  VectorClock result;
  for (const Version& version : versions_) result.merge(version.history());
  return result;
}

std::vector<const Version*> SiblingSet::live_at(WallMicros now) const {
  std::vector<const Version*> live;
  for (const Version& version : versions_) {
    if (!version.is_dead_at(now)) live.push_back(&version);
  }
  std::sort(live.begin(), live.end(), [](const Version* a, const Version* b) {
    return earlier(*a, *b);
  });
  return live;
}

std::optional<Dot> SiblingSet::next_dot(const NodeId& coordinator,
                                        const VectorClock& client_context,
                                        std::uint64_t dots_minted) const {
  // What this set knows of the coordinator (dots and contexts), what the client does, and
  // what the coordinator minted anywhere before.
  std::uint64_t known = std::max(client_context.counter(coordinator), dots_minted);
  for (const Version& version : versions_) {
    known = std::max(known, version.context.counter(coordinator));
    if (version.dot.node == coordinator) known = std::max(known, version.dot.counter);
  }
  if (known == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return Dot{coordinator, known + 1};
}

Result<Dot> SiblingSet::write(const NodeId& coordinator, const VectorClock& client_context,
                              std::optional<Value> value, WallMicros now, ConflictMode mode,
                              const SiblingLimits& limits, VersionCounters& counters,
                              std::uint64_t dots_minted, WallMicros expires_at_us,
                              ValueKind kind) {
  VIGIL_ASSERT(is_valid_node_id(coordinator), "invalid coordinator node id");
  VIGIL_ASSERT(expires_at_us >= 0 && (value || expires_at_us == 0),
               "an expiry must be >= 0, and 0 on a tombstone");
  VIGIL_ASSERT(value || kind == ValueKind::bytes, "a tombstone is not a counter");
  VIGIL_ASSERT(limits.siblings_max >= 1, "siblings_max must be at least 1");

  const std::optional<Dot> minted = next_dot(coordinator, client_context, dots_minted);
  if (!minted) {
    return error(Code::invalid_argument, "dot counter of " + coordinator + " would overflow");
  }

  // The new version's context also absorbs the histories of the versions it supersedes:
  // one of them may have absorbed a loser or a dropped sibling after the client read it,
  // and that record must not be lost with it (the same rule merge follows).
  VectorClock context = client_context;
  std::vector<Version> next;
  next.reserve(versions_.size() + 1);
  for (const Version& version : versions_) {
    if (client_context.contains(version.dot)) {
      context.merge(version.history());
    } else {
      next.push_back(version);
    }
  }
  if (mode == ConflictMode::siblings && next.size() + 1 > limits.siblings_max) {
    return error(Code::resource_exhausted, "write would make " + std::to_string(next.size() + 1) +
                                               " siblings, over siblings_max " +
                                               std::to_string(limits.siblings_max));
  }
  // The new version must be later than everything it supersedes (see the header comment).
  WallMicros timestamp_us = now;
  for (const auto& [node, entry] : context.entries()) {
    timestamp_us = std::max(timestamp_us, one_past(entry.timestamp_us));
  }

  Version fresh;
  fresh.dot = *minted;
  fresh.context = std::move(context);
  // A delete never prunes: its tombstone must keep covering every version the deleter saw,
  // or a replica still holding one would bring the deleted value back as a sibling of the
  // tombstone (docs/deletes.md, "Pruning"). Its clock is bounded by what the codec decodes.
  // An expiring value will stand for a delete once it expires: it does not prune either.
  const bool prunes = value && expires_at_us == 0;
  const std::size_t pruned = prunes ? fresh.context.prune(limits.pruning, now) : 0;
  fresh.timestamp_us = timestamp_us;
  fresh.checksum = value_checksum(value, kind);
  fresh.value = std::move(value);
  fresh.expires_at_us = expires_at_us;
  fresh.kind = kind;
  const Dot dot = fresh.dot;

  // The fresh dot is larger than any dot of the coordinator here, but other nodes' dots
  // may sort after it: insert in place.
  const auto position = std::upper_bound(next.begin(), next.end(), dot,
                                         [](const Dot& d, const Version& v) { return d < v.dot; });
  next.insert(position, std::move(fresh));
  if (mode == ConflictMode::timestamp) resolve_to_one(next);

  versions_ = std::move(next);
  counters.clock_entries_pruned += pruned;
  check_structure(versions_, mode, limits);
  return dot;
}

void SiblingSet::merge(const SiblingSet& other, ConflictMode mode, const SiblingLimits& limits,
                       VersionCounters& counters) {
  VIGIL_ASSERT(limits.siblings_max >= 1, "siblings_max must be at least 1");
  std::vector<Version> united = union_by_dot(versions_, other.versions_, counters);
  normalise(united, mode, limits, counters);
  versions_ = std::move(united);
  check_structure(versions_, mode, limits);
}

void SiblingSet::check_invariants(ConflictMode mode, const SiblingLimits& limits) const {
  check_structure(versions_, mode, limits);
  for (const Version& version : versions_) {
    VIGIL_ASSERT(version.checksum == value_checksum(version.value, version.kind),
                 "checksum does not match the value of " + dot_text(version.dot));
  }
}

}  // namespace vigil::core
