// Sync transfers: the keys exchanges and the background pass found, shipped in AeSync
// batches by priority, under the transfer and bandwidth limits (anti_entropy.cpp has the
// theory of operation; seed section 2.2's sync_process).

#include <algorithm>
#include <utility>

#include "core/antientropy/anti_entropy_state.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

// A batch stops adding pushed states past this many bytes (frames stay far below
// frame_size_bytes_max even with sync_process.batch_size large values).
constexpr std::size_t sync_batch_bytes_max = 16 * 1024 * 1024;

Counter repaired_counter(SyncWork work) {
  switch (work) {
    case SyncWork::missing_replicas:
      return Counter::ae_keys_repaired_missing;
    case SyncWork::inconsistent_replicas:
      return Counter::ae_keys_repaired_inconsistent;
    case SyncWork::background_sync:
      break;
  }
  return Counter::ae_keys_repaired_background;
}

// Our state of `key` as a push entry (nullopt when we no longer hold it), and its size.
std::optional<AeKeyState> local_state(AntiEntropyState& state, const Key& key,
                                      std::size_t& bytes) {
  auto read = state.context.storage.read_key(key);
  if (!read.ok() || !read->has_value()) return std::nullopt;
  AeKeyState entry{key, std::move(**read)};
  bytes += key.size() + encode_sibling_set(entry.state).size();
  return entry;
}

// Fills `sync` from an exchange's queues for one kind of work; false when it has none.
// missing_replicas: the keys one side lacks (pushed or pulled); inconsistent_replicas: the
// keys both hold differently (pushed and pulled).
bool fill_from_exchange(AntiEntropyState& state, Exchange& exchange, SyncWork work,
                        AeSync& sync, std::size_t& bytes) {
  const std::size_t batch = state.options.batch_size;
  const bool missing = work == SyncWork::missing_replicas;
  std::deque<Key>& push = missing ? exchange.work.push : exchange.work.both;
  while (missing && !exchange.work.pull.empty() && sync.pull.size() < batch) {
    sync.pull.push_back(std::move(exchange.work.pull.front()));
    exchange.work.pull.pop_front();
  }
  while (!push.empty() && sync.push.size() + sync.pull.size() < batch &&
         bytes < sync_batch_bytes_max) {
    Key key = std::move(push.front());
    push.pop_front();
    if (auto entry = local_state(state, key, bytes)) sync.push.push_back(std::move(*entry));
    if (!missing) sync.pull.push_back(std::move(key));
  }
  return !sync.push.empty() || !sync.pull.empty();
}

// The background pass's pulls of corrupt keys, batched per peer (the first queued peer).
bool fill_from_background(AntiEntropyState& state, AeSync& sync, NodeId& peer) {
  if (state.background_pulls.empty()) return false;
  peer = state.background_pulls.front().second;
  for (auto it = state.background_pulls.begin();
       it != state.background_pulls.end() && sync.pull.size() < state.options.batch_size;) {
    if (it->second == peer) {
      sync.pull.push_back(std::move(it->first));
      it = state.background_pulls.erase(it);
    } else {
      ++it;
    }
  }
  return true;
}

void send_sync(AntiEntropyState& state, const Now& now, const NodeId& peer, RequestId exchange_id,
               SyncWork work, AeSync sync, std::size_t bytes) {
  const RequestId id = state.new_id(state.next_transfer_sequence);
  sync.exchange_id = id;
  Transfer transfer;
  transfer.exchange_id = exchange_id;
  transfer.peer = peer;
  transfer.work = work;
  transfer.pulled = sync.pull;
  transfer.pushed = sync.push.size();
  transfer.deadline = now.monotonic + state.context.options.request_timeout;
  if (auto it = state.exchanges.find(exchange_id); it != state.exchanges.end()) {
    it->second.transfers_in_flight += 1;
  }
  state.bandwidth.tokens -= static_cast<double>(bytes);
  state.context.counters.add("ae_sync_batches_sent");
  state.context.counters.add("ae_keys_sent", sync.push.size());
  state.context.counters.add("ae_bytes_sent", bytes);
  state.transfers.emplace(id, std::move(transfer));
  state.context.send(peer, std::move(sync));
}

// One batch of the highest-priority work there is; false when there is none. The
// background pass's work is the corrupt records it found, fetched from a replica.
bool start_one(AntiEntropyState& state, const Now& now) {
  for (const SyncWork work : state.options.priority) {
    if (work == SyncWork::background_sync) {
      AeSync sync;
      NodeId peer;
      if (fill_from_background(state, sync, peer)) {
        send_sync(state, now, peer, 0, work, std::move(sync), 0);
        return true;
      }
      continue;
    }
    for (auto& [id, exchange] : state.exchanges) {
      AeSync sync;
      std::size_t bytes = 0;
      if (fill_from_exchange(state, exchange, work, sync, bytes)) {
        send_sync(state, now, exchange.peer, id, work, std::move(sync), bytes);
        return true;
      }
    }
  }
  return false;
}

}  // namespace

void start_transfers(AntiEntropyState& state, const Now& now) {
  const std::uint64_t rate = state.options.bandwidth_bytes_per_second;
  state.bandwidth.refill(now.monotonic, rate, static_cast<double>(rate));
  while (state.transfers.size() < state.options.concurrent_transfers &&
         state.bandwidth.tokens >= 0 && start_one(state, now)) {
  }
  // An exchange whose last transfer was answered and that has nothing left is finished.
  std::vector<RequestId> idle;
  for (const auto& [id, exchange] : state.exchanges) {
    if (exchange.asked.empty() && !exchange.listing && exchange.to_descend.empty() &&
        exchange.to_list.empty() && exchange.work.empty() && exchange.transfers_in_flight == 0) {
      idle.push_back(id);
    }
  }
  for (const RequestId id : idle) finish_exchange(state, now, id, "");
}

void on_sync_reply(AntiEntropyState& state, const Now& now, const NodeId& from,
                   const AeSyncReply& reply) {
  auto it = state.transfers.find(reply.exchange_id);
  if (it == state.transfers.end() || it->second.peer != from) {
    state.context.counters.add("ignored_ae_replies");
    return;
  }
  Transfer transfer = std::move(it->second);
  state.transfers.erase(it);
  auto exchange = state.exchanges.find(transfer.exchange_id);
  if (exchange != state.exchanges.end()) exchange->second.transfers_in_flight -= 1;
  if (reply.status.code != Code::ok) {
    state.context.counters.add("ae_sync_errors");
    return;
  }
  state.context.counters.add(repaired_counter(transfer.work), transfer.pushed);
  std::size_t answered = 0;
  for (const AeKeyState& entry : reply.states) {
    if (answered >= transfer.pulled.size() || entry.key != transfer.pulled[answered]) {
      state.context.counters.add("ae_replies_malformed");
      break;
    }
    ++answered;
    if (entry.state.empty()) continue;
    std::size_t bytes = entry.key.size() + encode_sibling_set(entry.state).size();
    state.bandwidth.tokens -= static_cast<double>(bytes);
    state.context.counters.add("ae_keys_received");
    state.context.counters.add("ae_bytes_received", bytes);
    if (Status merged = state.replica.merge_into_local(entry.key, entry.state); !merged.ok()) {
      state.context.counters.add("ae_sync_errors");
      continue;
    }
    state.context.counters.add(repaired_counter(transfer.work));
    if (state.corrupt_awaiting.erase(entry.key) > 0) {
      state.context.counters.add("ae_corrupt_records_repaired");
    }
  }
  // Keys the reply left out (it was full) are asked for again.
  if (exchange != state.exchanges.end()) {
    for (std::size_t i = answered; i < transfer.pulled.size(); ++i) {
      exchange->second.work.pull.push_back(transfer.pulled[i]);
    }
  }
  start_transfers(state, now);
}

void expire_transfers(AntiEntropyState& state, const Now& now) {
  for (auto it = state.transfers.begin(); it != state.transfers.end();) {
    if (it->second.deadline > now.monotonic) {
      ++it;
      continue;
    }
    auto exchange = state.exchanges.find(it->second.exchange_id);
    if (exchange != state.exchanges.end()) exchange->second.transfers_in_flight -= 1;
    state.context.counters.add("ae_sync_timeouts");
    it = state.transfers.erase(it);
  }
}

}  // namespace vigil::core
