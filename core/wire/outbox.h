#pragma once
// The messages a node produced and has not handed to its environment yet: one outbox per
// node, shared by every part of it (core/node/node_context.h; membership writes to it
// too). Messages leave in the order they were sent, which is part of the node's behaviour
// (the simulator's trace hash covers it). The environment drains it (take) only after the
// commit that covers what the node staged (core/node/node.h's driving protocol).

#include <iterator>
#include <utility>
#include <vector>

#include "core/types.h"
#include "core/wire/messages.h"

namespace vigil::core {

class Outbox {
 public:
  explicit Outbox(NodeId self) : self_(std::move(self)) {}

  // Appends a message from this node to `to`.
  void send(const NodeId& to, Message message) {
    messages_.push_back(Envelope{self_, to, std::move(message)});
  }
  // Everything sent since the last take, in order; the outbox is empty after.
  std::vector<Envelope> take() { return std::exchange(messages_, {}); }
  // Puts messages taken earlier and not sent back in front, in their order (the driver
  // gives back what a failed commit covered, so that it is withdrawn with the rest).
  void put_back(std::vector<Envelope> earlier) {
    earlier.insert(earlier.end(), std::make_move_iterator(messages_.begin()),
                   std::make_move_iterator(messages_.end()));
    messages_ = std::move(earlier);
  }
  bool empty() const { return messages_.empty(); }
  const NodeId& self() const { return self_; }

 private:
  NodeId self_;
  std::vector<Envelope> messages_;
};

}  // namespace vigil::core
