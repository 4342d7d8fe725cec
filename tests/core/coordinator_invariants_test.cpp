// check_coordinator_invariants() compares the coordinator's indexes (timers, client and
// peer requests) with the requests in flight by multiset fingerprints, and only looks
// requests up to name the one at fault. These tests show each comparison failing when an
// index and the requests disagree, and passing when they agree.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/coordinator/coordinator_state.h"
#include "core/node/node_context.h"
#include "core/replica/replica.h"
#include "core/ring/ring.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::core {
namespace {

class CoordinatorInvariants : public ::testing::Test {
 protected:
  CoordinatorInvariants()
      : storage_(store_),
        context_(options(), Ring::build({"n1", "n2", "n3"}, RingOptions{}), storage_, 7),
        replica_(context_),
        state_(context_, replica_) {}

  static NodeOptions options() {
    NodeOptions options;
    options.id = "n1";
    return options;
  }

  static std::vector<ReplicaProgress> preference_list() {
    std::vector<ReplicaProgress> replicas(3);
    replicas[0].node = "n1";
    replicas[1].node = "n2";
    replicas[2].node = "n3";
    return replicas;
  }

  // A coordinated write from a client, with its deadline and retry timers and its index.
  Request& add_write(RequestId client_id) {
    Request request;
    request.id = (context_.incarnation << sequence_bits) | state_.next_sequence++;
    request.kind = RequestKind::write;
    request.requester.client_id = client_id;
    request.key = "k";
    request.needed = 2;
    request.replicas = preference_list();
    Version version;
    version.dot = Dot{"n1", 1};
    version.value = Value("v");
    version.checksum = value_checksum(version.value);
    request.state = SiblingSet::from_versions({version}).value();
    request.deadline = instant_from_micros(5'000'000);
    request.retry_at = instant_from_micros(1'000'000);
    state_.timers.insert(TimerEntry{request.deadline, request.id, TimerKind::deadline});
    state_.timers.insert(TimerEntry{*request.retry_at, request.id, TimerKind::retry});
    state_.client_requests[client_id] = request.id;
    const RequestId id = request.id;
    return state_.requests.emplace(id, std::move(request)).first->second;
  }

  // A read coordinated for a peer's forward.
  Request& add_peer_read(const NodeId& peer, RequestId peer_request_id) {
    Request request;
    request.id = (context_.incarnation << sequence_bits) | state_.next_sequence++;
    request.kind = RequestKind::read;
    request.requester = Requester{false, 0, peer, peer_request_id};
    request.key = "k";
    request.needed = 2;
    request.replicas = preference_list();
    request.deadline = instant_from_micros(6'000'000);
    state_.timers.insert(TimerEntry{request.deadline, request.id, TimerKind::deadline});
    state_.peer_requests[PeerRequestKey{peer, peer_request_id}] = request.id;
    const RequestId id = request.id;
    return state_.requests.emplace(id, std::move(request)).first->second;
  }

  store::MemoryStore store_;
  store::TypedStorage storage_;
  NodeContext context_;
  Replica replica_;
  CoordinatorState state_;
};

TEST_F(CoordinatorInvariants, ConsistentIndexesPass) {
  add_write(11);
  add_write(12);
  add_peer_read("n2", 40);
  check_coordinator_invariants(state_);
}

TEST_F(CoordinatorInvariants, AMovedDeadlineIsNamed) {
  Request& request = add_write(11);
  add_peer_read("n2", 40);
  request.deadline = instant_from_micros(4'000'000);  // the timer still says 5 s
  EXPECT_DEATH(check_coordinator_invariants(state_), "has no deadline timer");
}

TEST_F(CoordinatorInvariants, ALostRetryTimerIsCaught) {
  Request& request = add_write(11);
  state_.timers.erase(TimerEntry{*request.retry_at, request.id, TimerKind::retry});
  EXPECT_DEATH(check_coordinator_invariants(state_), "lost a timer");
}

TEST_F(CoordinatorInvariants, ATimerOfAFinishedRequestIsCaught) {
  add_write(11);
  state_.timers.insert(TimerEntry{instant_from_micros(9), 12345, TimerKind::deadline});
  EXPECT_DEATH(check_coordinator_invariants(state_), "a timer outlived its request");
}

TEST_F(CoordinatorInvariants, AnUnindexedClientRequestIsCaught) {
  add_write(11);
  state_.client_requests.erase(11);
  EXPECT_DEATH(check_coordinator_invariants(state_), "unanswered client request is not indexed");
}

TEST_F(CoordinatorInvariants, AClientIndexPointingAtAnotherRequestIsNamed) {
  Request& first = add_write(11);
  add_write(12);
  state_.client_requests[12] = first.id;  // both client ids now name the first request
  EXPECT_DEATH(check_coordinator_invariants(state_), "indexed to another request");
}

TEST_F(CoordinatorInvariants, AnAnsweredClientRequestStillIndexedIsCaught) {
  Request& request = add_write(11);
  request.reply_code = Code::timeout;
  EXPECT_DEATH(check_coordinator_invariants(state_), "indexed but not in flight");
}

TEST_F(CoordinatorInvariants, APeerIndexUnderTheWrongKeyIsNamed) {
  Request& request = add_peer_read("n2", 40);
  state_.peer_requests.clear();
  state_.peer_requests[PeerRequestKey{"n3", 40}] = request.id;  // same id, other peer
  EXPECT_DEATH(check_coordinator_invariants(state_), "peer request indexed to another request");
}

}  // namespace
}  // namespace vigil::core
