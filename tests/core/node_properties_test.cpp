// core::Node properties over random fault schedules (RapidCheck): messages delivered in
// any order, duplicated or lost, nodes cut off and restarted, one lying disk. The cluster
// harness checks the node's invariants after every input; the property checks what
// clients saw: in siblings mode no acknowledged write is lost, and no request is answered
// twice.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

struct Submitted {
  NodeId node;
  std::uint64_t life = 0;  // restarts of `node` when submitted
  Key key;
  Value value;  // puts only
  bool is_put = false;
};

class Chaos {
 public:
  // Every message waits in `held` until a step delivers, duplicates or drops it.
  explicit Chaos(ConflictMode mode) : cluster_(4, options(mode)) { cluster_.hold = true; }

  void step() {
    const int action = *rc::gen::inRange(0, 100);
    RC_LOG() << "t=" << to_micros(cluster_.now_instant()) / 1000 << "ms action " << action;
    if (action < 25) {
      submit(true);
    } else if (action < 32) {
      submit(false);
    } else if (action < 55) {
      deliver_one(/*keep=*/false);
    } else if (action < 60) {
      deliver_one(/*keep=*/true);
    } else if (action < 64) {
      drop_one();
    } else if (action < 76) {
      cluster_.advance(std::chrono::milliseconds(*rc::gen::inRange(0, 3000)));
    } else if (action < 82) {
      toggle_down();
    } else if (action < 84) {
      restart();
    } else if (action < 85 && !lied_) {
      lied_ = true;
      const NodeId node = pick_node();
      RC_LOG() << " lose next commit of " << node;
      cluster_.store(node).lose_next_commit();
    } else {
      deliver_one(false);
    }
  }

  // Heals everything, lets every request finish, then reads every key at `all`.
  void check() {
    cluster_.hold = false;
    cluster_.down.clear();
    for (Envelope& envelope : std::exchange(cluster_.held, {})) cluster_.deliver(envelope);
    cluster_.advance(std::chrono::seconds(30));
    std::map<Key, std::set<Value>> acknowledged;
    for (const auto& [id, request] : submitted_) {
      RC_ASSERT(cluster_.replies_for(id) <= 1u);
      const bool node_survived = lives_[request.node] == request.life;
      if (node_survived) RC_ASSERT(cluster_.replies_for(id) == 1u);
      auto reply = cluster_.reply(id);
      if (reply) {
        RC_LOG() << "reply " << id << " " << reply->status.to_string() << " values "
                 << reply->values.size();
      }
      if (request.is_put && reply && reply->status.ok()) {
        acknowledged[request.key].insert(request.value);
      }
    }
    for (const auto& [key, values] : acknowledged) {
      const ClientReply read = cluster_.get("n1", key, Consistency::all);
      RC_ASSERT(read.status.ok());
      const std::set<Value> present(read.values.begin(), read.values.end());
      RC_LOG() << "final " << key << ":";
      for (const Value& value : present) RC_LOG() << " " << value;
      RC_LOG() << " replicas:";
      for (const NodeId& replica : cluster_.replicas_of(key)) RC_LOG() << " " << replica;
      RC_LOG() << "\n";
      for (const Value& value : values) {
        RC_ASSERT(present.contains(value));
      }
    }
  }

 private:
  static NodeOptions options(ConflictMode mode) {
    NodeOptions options;
    options.conflict_mode = mode;
    options.sibling_limits.siblings_max = 1000;
    // Blind puts that must all survive as siblings: without the coordinator's context.
    options.set_context = SetContext::read;
    return options;
  }

  NodeId pick_node() { return *rc::gen::elementOf(cluster_.ids()); }

  void submit(bool is_put) {
    ClientRequest request;
    request.id = cluster_.next_client_id();
    request.op = is_put ? ClientOp::put : ClientOp::get;
    request.key = *rc::gen::elementOf(std::vector<Key>{"a", "b", "c"});
    if (is_put) request.value = "v" + std::to_string(request.id);
    const NodeId node = pick_node();
    RC_LOG() << " submit " << request.id << (is_put ? " put " : " get ") << request.key << " at "
             << node;
    submitted_[request.id] = Submitted{node, lives_[node], request.key, request.value, is_put};
    cluster_.client(node, std::move(request));
  }

  void deliver_one(bool keep) {
    if (cluster_.held.empty()) return;
    const auto index = *rc::gen::inRange<std::size_t>(0, cluster_.held.size());
    const Envelope envelope = cluster_.held[index];
    RC_LOG() << " deliver " << envelope.from << "->" << envelope.to << " type "
             << envelope.message.index() << (keep ? " (dup)" : "");
    if (!keep) cluster_.held.erase(cluster_.held.begin() + static_cast<long>(index));
    cluster_.deliver(envelope);
  }

  void drop_one() {
    if (cluster_.held.empty()) return;
    const auto index = *rc::gen::inRange<std::size_t>(0, cluster_.held.size());
    cluster_.held.erase(cluster_.held.begin() + static_cast<long>(index));
  }

  void toggle_down() {
    const NodeId node = pick_node();
    RC_LOG() << " toggle " << node;
    if (cluster_.down.contains(node)) {
      cluster_.down.erase(node);
    } else if (cluster_.down.size() < 2) {
      cluster_.down.insert(node);
    }
  }

  void restart() {
    const NodeId node = pick_node();
    RC_LOG() << " restart " << node;
    ++lives_[node];
    cluster_.restart(node);
  }

  TestCluster cluster_;
  std::map<RequestId, Submitted> submitted_;
  std::map<NodeId, std::uint64_t> lives_;
  bool lied_ = false;
};

RC_GTEST_PROP(NodeProperties, SiblingsModeLosesNoAcknowledgedWriteUnderFaults, ()) {
  Chaos chaos(ConflictMode::siblings);
  const int steps = *rc::gen::inRange(1, 250);
  for (int i = 0; i < steps; ++i) chaos.step();
  chaos.check();
}

}  // namespace
}  // namespace vigil::core
