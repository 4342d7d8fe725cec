#pragma once
// The simulator's store: the Store contract held in ordered maps, with a simulated crash and
// disk faults (FoundationDB's simulated disk, in the small). The object outlives the node
// that uses it, as a disk outlives a process: the simulator calls crash() when it kills the
// node and hands the same store to the restarted one.
//
// Deterministic: every container is ordered by value ((token, key), hint id, meta name), so
// every walk is the same on every run and platform.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "store/store.h"

namespace vigil::store {

namespace detail {

// The position of a key record: ring order, then key bytes.
struct TokenKey {
  Token token = 0;
  Key key;
};
struct TokenKeyView {
  Token token = 0;
  std::string_view key;
};
struct TokenKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    if (a.token != b.token) return a.token < b.token;
    return std::string_view(a.key) < std::string_view(b.key);
  }
};

// A map of live values that can undo every change made since its last durable commit.
// Changes are written in place; the value each changed entry had before (its pre-image) is
// kept apart, once per entry, so commit only forgets pre-images and crash only restores
// them: neither copies the map. Pre-images of batches whose commit was lost are kept in a
// second journal: they are the durable values, restored at crash unless a later durable
// commit overwrote the entry.
template <typename K, typename V, typename Compare>
class JournaledMap {
 public:
  using Map = std::map<K, V, Compare>;

  const Map& live() const { return live_; }
  template <typename Lookup>
  const V* find(const Lookup& key) const {
    const auto it = live_.find(key);
    return it == live_.end() ? nullptr : &it->second;
  }

  void put(K key, V value) {
    auto it = live_.lower_bound(key);
    const bool exists = it != live_.end() && !Compare{}(key, it->first);
    remember(key, exists ? it : live_.end());
    if (exists) {
      it->second = std::move(value);
    } else {
      live_.emplace_hint(it, std::move(key), std::move(value));
    }
  }

  // False when absent (then nothing changes).
  template <typename Lookup>
  bool erase(const Lookup& lookup) {
    auto it = live_.find(lookup);
    if (it == live_.end()) return false;
    remember(it->first, it);
    live_.erase(it);
    return true;
  }

  // Pipelined commit: seal() hands the changes staged so far to a new commit in flight
  // (several may be in flight; they finish oldest first); changes after it stage the next.
  void seal() {
    sealed_.push_back(std::move(staged_before_));
    staged_before_.clear();
  }
  // The oldest commit in flight reached the disk.
  void sealed_durable() {
    VIGIL_ASSERT(!sealed_.empty(), "no commit in flight");
    if (!lost_before_.empty()) {
      for (const auto& entry : sealed_.front()) lost_before_.erase(entry.first);
    }
    sealed_.pop_front();
  }
  // The oldest commit in flight reported ok (or failed) but wrote nothing: the live values
  // stay (the process believes them) while the durable ones are the oldest pre-images.
  void sealed_lost() {
    VIGIL_ASSERT(!sealed_.empty(), "no commit in flight");
    lost_before_.merge(sealed_.front());  // keeps lost_before_'s older pre-image on a clash
    sealed_.pop_front();
  }
  // A crash. Of the commits in flight, the oldest `kept` reached the disk before it and the
  // rest did not: a log keeps a prefix (SQLite's WAL recovery stops at the first frame
  // that is not there).
  void crash(std::size_t kept) {
    restore(staged_before_);
    while (sealed_.size() > kept) {  // newest first: older pre-images are restored last
      restore(sealed_.back());
      sealed_.pop_back();
    }
    while (!sealed_.empty()) sealed_durable();
    restore(lost_before_);  // last: these pre-images are older, they are what the disk holds
  }
  // The value as of the last commit that returned: what the process was told is durable
  // (a lost commit counts: the disk said ok). nullptr when absent there.
  template <typename Lookup>
  const V* committed(const Lookup& lookup) const {
    for (const Journal& sealed : sealed_) {  // oldest first
      if (auto it = sealed.find(lookup); it != sealed.end()) {
        return it->second ? &*it->second : nullptr;
      }
    }
    if (auto it = staged_before_.find(lookup); it != staged_before_.end()) {
      return it->second ? &*it->second : nullptr;
    }
    return find(lookup);
  }
  // The copy on the simulated disk, nullptr when the disk holds none.
  template <typename Lookup>
  V* durable(const Lookup& lookup) {
    if (auto it = lost_before_.find(lookup); it != lost_before_.end()) {
      return it->second ? &*it->second : nullptr;
    }
    for (Journal& sealed : sealed_) {  // oldest first
      if (auto it = sealed.find(lookup); it != sealed.end()) {
        return it->second ? &*it->second : nullptr;
      }
    }
    if (auto it = staged_before_.find(lookup); it != staged_before_.end()) {
      return it->second ? &*it->second : nullptr;
    }
    auto it = live_.find(lookup);
    return it == live_.end() ? nullptr : &it->second;
  }

 private:
  using Journal = std::map<K, std::optional<V>, Compare>;

  // Records the pre-image of `key` unless this commit already holds one (the first is the
  // one a crash must restore). `it` is the live entry or live_.end(); its value is moved
  // out, so the caller overwrites or erases it next.
  void remember(const K& key, typename Map::iterator it) {
    auto [slot, inserted] = staged_before_.try_emplace(key);
    if (inserted && it != live_.end()) slot->second = std::move(it->second);
  }
  void restore(Journal& journal) {
    for (auto& [key, before] : journal) {
      if (before) {
        live_.insert_or_assign(key, std::move(*before));
      } else {
        live_.erase(key);
      }
    }
    journal.clear();
  }

  Map live_;
  Journal staged_before_;  // pre-images of changes since the last seal
  std::deque<Journal> sealed_;  // pre-images of each commit in flight, oldest first
  Journal lost_before_;    // pre-images of changes whose commit was lost or failed
};

struct StoredBlob {
  std::string blob;
  std::uint64_t checksum = 0;  // xxhash64(blob), computed when written
};
struct StoredHint {
  HintRecord record;
  std::uint64_t checksum = 0;  // xxhash64(record.state)
};

}  // namespace detail

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;

  Result<std::optional<KeyRecord>> get(std::string_view key) override;
  Result<std::vector<ScannedRecord>> scan_checked(TokenRange range, std::size_t limit,
                                                  const std::optional<KeyRecord>& after) override;
  Result<std::uint64_t> key_count() override;
  Result<std::vector<HintRecord>> hints_for(const NodeId& target, std::size_t limit) override;
  Result<std::vector<HintRecord>> hints_after(std::uint64_t after_id, std::size_t limit) override;
  Result<std::uint64_t> hint_count() override;
  Result<std::optional<std::string>> get_meta(std::string_view name) override;
  Status apply(const WriteBatch& batch) override;
  Status begin_commit() override;
  Status finish_commit() override;
  bool has_uncommitted() const override { return staged_; }
  // Commits begun with something sealed and not finished yet (finish_commit() finishes the
  // oldest).
  std::size_t commits_in_flight() const { return sealed_; }

  // A simulated crash and restart: everything staged and not durably committed is gone
  // (staged batches, and batches whose commit was lost or failed); the sticky error clears,
  // as a new process starts without it. Armed faults stay armed: they belong to the disk.
  // Of the commits in flight (begun, not finished), the oldest `in_flight_kept` survive:
  // the simulator draws how many, as a crash during fsyncs may have written some.
  void crash(std::size_t in_flight_kept = 0);

  // The simulator's view of what the node was told is durable (commits that returned ok,
  // lost ones included): the key's record and the states of the hints held for it. For
  // checks that count the copies behind an acknowledgement; no checksum verification.
  std::optional<std::string> committed_state(std::string_view key) const;
  std::vector<std::string> committed_hint_states(std::string_view key) const;

  // Fault hooks. The commit faults fire on the next commit that has something staged (at
  // its finish_commit()).
  // Lost write (a disk that lies): that commit returns ok, reads keep seeing the batch, but
  // it is not durable: crash() takes it back, unless a later durable commit rewrote the key.
  void lose_next_commit() { lose_next_commit_ = true; }
  // That commit returns io_error, which becomes sticky; the batch is not durable.
  void fail_next_commit() { fail_next_commit_ = true; }
  // Flips a byte of the durable copy of a record (its checksum when the blob is empty), so
  // the next read of it reports corruption. A staged change to the same record hides the
  // damage until crash(). not_found when the disk holds no such record.
  Status corrupt_key(std::string_view key);
  Status corrupt_hint(std::uint64_t id);

 private:
  using Keys = detail::JournaledMap<detail::TokenKey, detail::StoredBlob, detail::TokenKeyLess>;
  using Hints = detail::JournaledMap<std::uint64_t, detail::StoredHint, std::less<>>;
  using Meta = detail::JournaledMap<std::string, detail::StoredBlob, std::less<>>;

  void stage(const WriteBatch& batch);
  void put_hint(const HintRecord& hint);
  void erase_hint(std::uint64_t id);
  void rebuild_hint_index();
  Result<KeyRecord> verified(const detail::TokenKey& position,
                             const detail::StoredBlob& stored) const;
  Result<HintRecord> verified(const detail::StoredHint& stored) const;

  Keys keys_;
  Hints hints_;
  Meta meta_;
  std::set<std::pair<NodeId, std::uint64_t>> hints_by_target_;  // live hints, by target
  // Live hints, by key: the simulator's copy check (committed_hint_states) asks per
  // acknowledged write, and a scan of every hint made it the run's hot spot.
  std::set<std::pair<Key, std::uint64_t>> hints_by_key_;
  bool staged_ = false;
  std::size_t sealed_ = 0;  // commits in flight
  Status sticky_error_;
  bool lose_next_commit_ = false;
  bool fail_next_commit_ = false;
};

}  // namespace vigil::store
