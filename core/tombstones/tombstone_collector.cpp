// Tombstone collection: deletes that stick, and tombstones that go away (docs/deletes.md).
//
// A delete writes a tombstone: a version with no value, whose context covers what the
// deleter saw. The tombstone must stay until no replica can bring the deleted value back,
// or the value returns (Cassandra's zombies after gc_grace_seconds, Riak's reaped-too-early
// tombstones: ../shared/ANCHORS.md). The collector drops it when three things hold
// (Riak's reaper, ScyllaDB's tombstone_gc = repair):
//   (a) every replica of the key's preference list holds exactly the same state, or
//       nothing at all (a replica without the key cannot give its value back): the key's
//       first replica asks the others (TombstoneQuery), and each answers whether its state
//       hashes the same (key_state_hash over the canonical encoding, the hash the
//       anti-entropy trees use) or is absent. The answer vouches for staged state, so the
//       driver holds it until the commit that covers it (rule 3);
//   (b) the grace has passed since this node, and every replica that vouches with the
//       tombstone, first saw it. It exists for what a query cannot see: a hint that still
//       holds the old value (the config check keeps hint expiry <= grace), a coordinator's
//       resend or a replica's own read still in flight (request_timeout <= grace);
//   (c) the key's state has not changed since: every replica drops the key only if its
//       state still hashes as vouched (TombstoneReap), so a write that raced the round
//       keeps it.
// With mode `timeout` only (b) is checked, on this replica's word alone: Cassandra's
// classic rule, kept to show what it costs (scenarios/deletes-gc-too-early.yaml).
//
// Candidates. Every tombstone written here (NodeContext::stage_key tells the listeners)
// becomes a candidate at the end of its input; a key written live again stops being one.
// A scan walks the store keys_per_scan keys every scan_interval for one lap after start
// (tombstones written in an earlier life) and after a candidate was forgotten at
// candidates_max; nothing about the collector is persisted, and a restart only restarts
// the grace (later, never earlier). With no candidate and no lap owed there is no timer.
//
// Rounds. The first node of a key's preference list runs the rounds for it at the grace
// (one round per key, not N); another replica that still holds the tombstone at twice the
// grace runs its own (the first never had it, or a late sync brought it back after a
// reap). Batched by replica set, at most rounds_in_flight_max at once. A replica
// that is down, answers "no" or stays silent past request_timeout keeps the tombstone
// everywhere; the candidate waits a scan interval and tries again. A replica away longer
// than the grace therefore holds up collection until it is back and has been repaired (by
// hints or anti-entropy) rather than bringing old data back: nothing is dropped while any
// replica might still hold the value. A reap that a replica misses leaves its tombstone;
// anti-entropy copies it back to the others and a later round collects it everywhere.
//
// Expiry (docs/expiry.md). An expired value reads as absent, and is collected by exactly
// these rules: a state made only of tombstones and expiring values is a candidate as it is
// written, with `dead_from` its latest expiry; no round starts before this node's clock
// passes it, and a replica vouches, and drops the key, only when the state is dead on its
// own clock too. A replica that missed the EXPIRE holds another state, so (a) keeps the
// key until hints or anti-entropy bring it the expiring one: expiry never lets an older
// value come back (Riak's expiry, which its anti-entropy was not told about, did).
//
// Everything is in ordered maps keyed by values (rule 2).

#include "core/tombstones/tombstone_collector.h"

#include <algorithm>
#include <string>

#include "core/antientropy/key_hash.h"
#include "core/assert.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

// Keys named in one TombstoneQuery (well under the codec's tombstone_entries_max).
constexpr std::size_t round_entries_max = 256;

// Every version a tombstone or an expiring value: the state will read as absent by
// itself, from the latest expiry on.
std::optional<WallMicros> dead_from(const SiblingSet& state) {
  if (state.empty()) return std::nullopt;
  WallMicros from = 0;
  for (const Version& version : state.versions()) {
    if (version.is_tombstone()) continue;
    if (version.expires_at_us == 0) return std::nullopt;
    from = std::max(from, version.expires_at_us);
  }
  return from;
}

}  // namespace

TombstoneCollector::TombstoneCollector(NodeContext& context) : context_(context) {
  if (context_.options.tombstone_gc.mode != TombstoneGcMode::disabled) {
    context_.key_states.push_back(this);
  }
}

bool TombstoneCollector::handle_message(const Now& now, const NodeId& from,
                                        const Message& message) {
  if (const auto* query = std::get_if<TombstoneQuery>(&message)) {
    answer_query(now, from, *query);
  } else if (const auto* reply = std::get_if<TombstoneQueryReply>(&message)) {
    handle_reply(now, from, *reply);
  } else if (const auto* reap = std::get_if<TombstoneReap>(&message)) {
    handle_reap(now, *reap);
  } else {
    return false;
  }
  return true;
}

// ---- candidates ----

void TombstoneCollector::note_write(const KeyWrite& after, const SiblingSet* /*before*/,
                                    bool /*before_unknown*/) {
  if (const std::optional<WallMicros> from = dead_from(after.state)) {
    written_[after.key] = Mortal{key_state_hash(after.key, after.encoded), *from};
  } else {
    written_[after.key] = std::nullopt;  // live again, or erased
  }
}

// A corrupt record is anti-entropy's to replace; when the replacement is a tombstone,
// note_write sees it.
void TombstoneCollector::note_corrupt(const Key& key) { candidates_.erase(key); }

void TombstoneCollector::end_input(const Now& now) {
  for (auto& [key, mortal] : written_) {
    if (mortal) {
      remember(now.monotonic, key, *mortal);
    } else {
      candidates_.erase(key);
    }
  }
  written_.clear();
  if (started_ && !next_tick_) schedule_tick(now);
}

void TombstoneCollector::remember(const Instant& now, const Key& key, const Mortal& mortal) {
  const auto found = candidates_.find(key);
  if (found != candidates_.end()) {
    // Another tombstone state of the key (a delete merged with a concurrent one): its grace
    // starts again, since what the replicas must agree on changed.
    if (found->second.state_hash != mortal.state_hash) {
      found->second.state_hash = mortal.state_hash;
      found->second.dead_from = mortal.dead_from;
      found->second.first_seen = now;
    }
    return;
  }
  if (candidates_.size() >= context_.options.tombstone_gc.candidates_max) {
    context_.counters.add("tombstone_candidates_forgotten");
    lap_needed_ = true;  // a later lap finds it again
    forgot_in_lap_ = true;
    return;
  }
  candidates_.emplace(key, Candidate{mortal.state_hash, mortal.dead_from, now, now, 0});
  context_.counters.add("tombstones_found");
}

std::optional<std::uint64_t> TombstoneCollector::tombstone_hash(const Now& now, const Key& key,
                                                               SiblingSet* state_out) {
  Result<std::optional<SiblingSet>> state = context_.storage.read_key(key);
  if (!state.ok() || !state.value() || !(*state)->is_dead_at(now.wall_us)) return std::nullopt;
  const std::uint64_t hash = key_state_hash(key, **state);
  if (state_out != nullptr) *state_out = std::move(**state);
  return hash;
}

// ---- timers ----

std::optional<Instant> TombstoneCollector::poll_timeout() const {
  if (context_.options.tombstone_gc.mode == TombstoneGcMode::disabled) return std::nullopt;
  if (!started_) return Instant{};  // before the first input: arm the schedule
  std::optional<Instant> next = next_tick_;
  for (const auto& [id, round] : rounds_) {
    if (!next || round.deadline < *next) next = round.deadline;
  }
  return next;
}

void TombstoneCollector::schedule_tick(const Now& now) {
  if (lap_needed_ || !candidates_.empty()) {
    next_tick_ = now.monotonic + context_.options.tombstone_gc.scan_interval;
  } else {
    next_tick_.reset();
  }
}

void TombstoneCollector::handle_timeout(const Now& now) {
  if (context_.options.tombstone_gc.mode == TombstoneGcMode::disabled) return;
  std::vector<RequestId> expired;
  for (const auto& [id, round] : rounds_) {
    if (round.deadline <= now.monotonic) expired.push_back(id);
  }
  for (const RequestId id : expired) finish_round(now, id, true);
  if (!started_) {
    started_ = true;
    schedule_tick(now);
    return;
  }
  if (!next_tick_ || now.monotonic < *next_tick_) return;
  if (lap_needed_) scan_step(now);
  start_rounds(now);
  schedule_tick(now);
}

void TombstoneCollector::scan_step(const Now& now) {
  const TombstoneGcOptions& options = context_.options.tombstone_gc;
  if (context_.storage_failure) return;
  context_.counters.add("tombstone_scans");
  if (!scan_after_) forgot_in_lap_ = false;  // a new lap begins
  Result<std::vector<ScannedKey>> page =
      context_.storage.scan_keys(KeyRange{0, 0}, options.keys_per_scan, scan_after_);
  if (!page.ok()) return;  // the medium refused; the next scan tries again
  for (const ScannedKey& record : *page) {
    if (record.corrupt) continue;  // anti-entropy's background pass replaces it
    Result<SiblingSet> state = decode_sibling_set(record.encoded);
    if (!state.ok()) continue;
    const std::optional<WallMicros> from = dead_from(*state);
    if (!from) continue;
    remember(now.monotonic, record.key, Mortal{key_state_hash(record.key, record.encoded), *from});
  }
  if (page->size() < options.keys_per_scan) {
    scan_after_.reset();  // the end of the ring: the lap is done
    lap_needed_ = forgot_in_lap_;
  } else {
    scan_after_ = std::make_pair(page->back().token, page->back().key);
  }
}

// ---- rounds ----

void TombstoneCollector::start_rounds(const Now& now) {
  const TombstoneGcOptions& options = context_.options.tombstone_gc;
  std::vector<std::pair<Key, std::uint64_t>> due;
  for (const auto& [key, candidate] : candidates_) {
    if (candidate.round != 0 || candidate.not_before > now.monotonic) continue;
    if (now.monotonic - candidate.first_seen < options.grace) continue;
    if (now.wall_us < candidate.dead_from) continue;  // not expired yet on this clock
    due.emplace_back(key, candidate.state_hash);
  }
  if (options.mode == TombstoneGcMode::timeout) {
    // On this replica's word alone (Cassandra's gc_grace_seconds).
    for (const auto& [key, hash] : due) {
      if (!reap_local(now, key, hash)) refuse(now, key, "tombstones_refused_changed");
    }
    return;
  }
  // By replica set, in key order within each (ordered maps: deterministic rounds).
  std::map<std::vector<NodeId>, std::vector<TombstoneEntry>> by_replicas;
  for (const auto& [key, hash] : due) {
    std::vector<NodeId> replicas =
        context_.ring.preference_list(token_of_key(key), context_.options.replicas);
    if (replicas.empty()) continue;
    // The first replica runs the round at the grace; another that still holds the
    // tombstone at twice the grace runs one itself (the first lost or never had it, or a
    // late sync brought it back here after a reap).
    if (replicas.front() != context_.self() &&
        now.monotonic - candidates_.at(key).first_seen < 2 * options.grace) {
      continue;
    }
    by_replicas[std::move(replicas)].push_back(TombstoneEntry{key, hash});
  }
  for (auto& [replicas, entries] : by_replicas) {
    for (std::size_t first = 0; first < entries.size(); first += round_entries_max) {
      if (rounds_.size() >= options.rounds_in_flight_max) return;
      const std::size_t last = std::min(entries.size(), first + round_entries_max);
      start_round(now, replicas,
                  std::vector<TombstoneEntry>(entries.begin() + static_cast<std::ptrdiff_t>(first),
                                              entries.begin() + static_cast<std::ptrdiff_t>(last)));
    }
  }
}

void TombstoneCollector::start_round(const Now& now, const std::vector<NodeId>& replicas,
                                     std::vector<TombstoneEntry> entries) {
  std::vector<NodeId> peers;
  for (const NodeId& replica : replicas) {
    if (replica != context_.self()) peers.push_back(replica);
  }
  // A replica this node thinks is down cannot vouch: do not ask anyone.
  for (const NodeId& peer : peers) {
    if (context_.peer_is_up(peer)) continue;
    for (const TombstoneEntry& entry : entries) {
      refuse(now, entry.key, "tombstones_refused_no_answer");
    }
    return;
  }
  const RequestId id =
      (context_.incarnation << sequence_bits) | (next_round_sequence_++ & sequence_max);
  for (const TombstoneEntry& entry : entries) candidates_.at(entry.key).round = id;
  context_.counters.add("tombstone_rounds_started");
  if (peers.empty()) {  // N = 1: this node is every replica
    rounds_.emplace(id, Round{std::move(entries), {}, {}, now.monotonic});
    finish_round(now, id, false);
    return;
  }
  for (const NodeId& peer : peers) context_.send(peer, TombstoneQuery{id, entries});
  rounds_.emplace(id, Round{std::move(entries), std::move(peers), {},
                            now.monotonic + context_.options.request_timeout});
}

void TombstoneCollector::handle_reply(const Now& now, const NodeId& from,
                                      const TombstoneQueryReply& reply) {
  const auto found = rounds_.find(reply.round_id);
  if (found == rounds_.end() ||
      std::find(found->second.peers.begin(), found->second.peers.end(), from) ==
          found->second.peers.end() ||
      reply.holds.size() != found->second.entries.size()) {
    context_.counters.add("ignored_tombstone_replies");
    return;
  }
  Round& round = found->second;
  round.answers[from] = reply.holds;
  if (round.answers.size() == round.peers.size()) finish_round(now, reply.round_id, false);
}

void TombstoneCollector::finish_round(const Now& now, RequestId id, bool timed_out) {
  Round round = std::move(rounds_.at(id));
  rounds_.erase(id);
  TombstoneReap reap;
  for (std::size_t i = 0; i < round.entries.size(); ++i) {
    const TombstoneEntry& entry = round.entries[i];
    const auto candidate = candidates_.find(entry.key);
    if (candidate != candidates_.end() && candidate->second.round == id) {
      candidate->second.round = 0;
    }
    bool all_hold = !timed_out;
    bool someone_differs = false;
    for (const auto& [peer, holds] : round.answers) {
      if (holds[i] == 0) someone_differs = true;
    }
    if (someone_differs) all_hold = false;
    if (!all_hold) {
      refuse(now, entry.key,
             someone_differs ? "tombstones_refused_replica_differs" : "tombstones_refused_no_answer");
      continue;
    }
    // (c) here too: the key changed since the round began (a write raced it).
    if (candidate == candidates_.end() || candidate->second.state_hash != entry.state_hash ||
        !reap_local(now, entry.key, entry.state_hash)) {
      context_.counters.add("tombstones_refused_changed");
      continue;
    }
    reap.entries.push_back(entry);
  }
  if (reap.entries.empty()) return;
  for (const NodeId& peer : round.peers) context_.send(peer, reap);
}

void TombstoneCollector::refuse(const Now& now, const Key& key, const char* counter) {
  context_.counters.add(counter);
  const auto found = candidates_.find(key);
  if (found == candidates_.end()) return;
  found->second.not_before = now.monotonic + context_.options.tombstone_gc.scan_interval;
}

bool TombstoneCollector::reap_local(const Now& now, const Key& key, std::uint64_t state_hash) {
  if (context_.storage_failure) return false;
  SiblingSet state;
  const std::optional<std::uint64_t> hash = tombstone_hash(now, key, &state);
  if (!hash || *hash != state_hash) return false;
  const bool expired = !state.is_deleted();  // it held expired values, not only tombstones
  if (!context_.stage_key(key, &state, false, SiblingSet{}).ok()) return false;
  // stage_key told us (note_write) the key is gone; it stops being a candidate now.
  written_.erase(key);
  candidates_.erase(key);
  context_.counters.add("tombstones_collected");
  if (expired) context_.counters.add("expired_keys_collected");
  return true;
}

// ---- the other replicas' side ----

// The same tombstone, held here for the grace too, or nothing at all. A replica without
// the key cannot bring its value back (it never had it, or collected it already), and what
// could still give it the value is what the grace covers. A replica that got the tombstone
// only lately may still have a request of its own in flight that read the old value (a
// read started before a partition healed, repairing what it read when it completes): the
// grace, at least request_timeout, covers that (the simulator found it: the
// deletes-gc-too-early schedule in `replicas` mode, seeds 52 and 84). Anything else, a
// corrupt record or an unreadable store included, is a no.
bool TombstoneCollector::vouches_for(const Now& now, const TombstoneEntry& entry) {
  Result<std::optional<SiblingSet>> state = context_.storage.read_key(entry.key);
  if (!state.ok()) return false;
  if (!state.value()) return true;
  if (!(*state)->is_dead_at(now.wall_us) ||
      key_state_hash(entry.key, **state) != entry.state_hash) {
    return false;
  }
  const auto candidate = candidates_.find(entry.key);
  return candidate != candidates_.end() && candidate->second.state_hash == entry.state_hash &&
         now.monotonic - candidate->second.first_seen >= context_.options.tombstone_gc.grace;
}

void TombstoneCollector::answer_query(const Now& now, const NodeId& from,
                                      const TombstoneQuery& query) {
  TombstoneQueryReply reply{query.round_id, {}};
  reply.holds.reserve(query.entries.size());
  for (const TombstoneEntry& entry : query.entries) {
    const std::vector<NodeId> replicas =
        context_.ring.preference_list(token_of_key(entry.key), context_.options.replicas);
    const bool replica =
        std::find(replicas.begin(), replicas.end(), context_.self()) != replicas.end();
    reply.holds.push_back(replica && !context_.storage_failure && vouches_for(now, entry) ? 1 : 0);
  }
  context_.counters.add("tombstone_queries_answered");
  context_.send(from, std::move(reply));
}

void TombstoneCollector::handle_reap(const Now& now, const TombstoneReap& reap) {
  context_.counters.add("tombstone_reaps_received");
  for (const TombstoneEntry& entry : reap.entries) {
    if (!reap_local(now, entry.key, entry.state_hash)) {
      context_.counters.add("tombstones_refused_changed");
    }
  }
}

void TombstoneCollector::check_invariants() const {
  VIGIL_ASSERT(written_.empty(), "tombstone writes left over from an earlier input");
  VIGIL_ASSERT(candidates_.size() <= context_.options.tombstone_gc.candidates_max,
               "more tombstone candidates than candidates_max");
  for (const auto& [id, round] : rounds_) {
    VIGIL_ASSERT(round.answers.size() < round.peers.size() || round.peers.empty(),
                 "a round every peer answered is still open");
    for (const TombstoneEntry& entry : round.entries) {
      const auto found = candidates_.find(entry.key);
      VIGIL_ASSERT(found == candidates_.end() || found->second.round == id ||
                       found->second.round == 0 || rounds_.contains(found->second.round),
                   "a candidate names a round that does not exist");
    }
  }
}

}  // namespace vigil::core
