// What a node does when a commit fails (LevelDB's sticky background error, applied to a
// state machine whose outputs wait for the commit).
//
// Theory of operation. A failed commit leaves the node's durable state unknown: any
// write staged since the last good commit may or may not be on disk. Everything the node
// produced since then is still in its outbox and reply queue (the driving protocol drains
// them only after a good commit), so it is withdrawn here, wholesale, before anything can
// leave: an acknowledgement that durability cannot back is never sent. In its place:
// - every withdrawn client reply becomes io_error ("outcome unknown"): the client is still
//   answered exactly once;
// - a withdrawn CoordinateReply becomes the same io_error for the forwarding peer (and is
//   what a duplicate of its request is answered with from now on);
// - a withdrawn ReplicaWriteReply (a replica's or a hint holder's acknowledgement) becomes
//   an io_error refusal, so the coordinator counts this replica out instead of waiting; a
//   withdrawn HintDeliveryReply likewise, so the hint's holder keeps the hint;
// - other withdrawn messages (replica reads and writes, read answers, forwards) are
//   dropped; they were requests or data, and their senders retry or time out.
// Then every read and write this node coordinates fails now (they depend on local state:
// Coordinator::handle_storage_failure), and the node refuses writes until it restarts;
// forwards go on (they touch no storage).

#include <string>
#include <utility>
#include <vector>

#include "core/node/node.h"
#include "core/node/node_parts.h"

namespace vigil::core {

namespace {

void replace_withdrawn_messages(NodeContext& context, Coordinator& coordinator,
                                std::vector<Envelope> withdrawn, const Status& unknown) {
  for (Envelope& envelope : withdrawn) {
    context.counters.add("withdrawn_messages");
    if (auto* reply = std::get_if<CoordinateReply>(&envelope.message)) {
      CoordinateReply replacement{reply->request_id, to_wire(unknown), {}, 0};
      coordinator.handle_withdrawn_reply(envelope.to, replacement);
      context.send(envelope.to, std::move(replacement));
    } else if (auto* ack = std::get_if<ReplicaWriteReply>(&envelope.message)) {
      context.send(envelope.to, ReplicaWriteReply{ack->request_id, to_wire(unknown)});
    } else if (auto* delivered = std::get_if<HintDeliveryReply>(&envelope.message)) {
      context.send(envelope.to, HintDeliveryReply{delivered->hint_id, to_wire(unknown)});
    } else if (auto* synced = std::get_if<AeSyncReply>(&envelope.message)) {
      context.send(envelope.to, AeSyncReply{synced->exchange_id, to_wire(unknown), {}});
    } else if (auto* vouched = std::get_if<TombstoneQueryReply>(&envelope.message)) {
      // Vouch for nothing: the states it vouched for may not be durable.
      context.send(envelope.to, TombstoneQueryReply{
                                    vouched->round_id,
                                    std::vector<std::uint8_t>(vouched->holds.size(), 0)});
    }
  }
}

// Withdraws the outbox and the replies, puts their replacements in; returns `unknown`.
Status withdraw(NodeContext& context, Coordinator& coordinator, const Status& status) {
  context.counters.add("storage_failures");
  if (!context.storage_failure) {
    context.storage_failure = status.ok() ? error(Code::io_error, "commit failed") : status;
  }
  const Status unknown(Code::io_error, "storage commit failed on node " + context.self() + " (" +
                                           context.storage_failure->to_string() +
                                           "): outcome unknown");
  std::vector<Envelope> withdrawn_messages = context.outbox.take();
  std::vector<ClientReply> withdrawn_replies = std::exchange(context.replies, {});
  for (ClientReply& reply : withdrawn_replies) {
    context.counters.add("withdrawn_replies");
    ClientReply replacement;
    replacement.id = reply.id;
    replacement.status = unknown;
    context.replies.push_back(std::move(replacement));
  }
  replace_withdrawn_messages(context, coordinator, std::move(withdrawn_messages), unknown);
  return unknown;
}

}  // namespace

void Node::handle_storage_failure(const Now& now, const Status& status) {
  const Status unknown = withdraw(parts_->context, parts_->coordinator, status);
  parts_->coordinator.handle_storage_failure(now, unknown);
}

}  // namespace vigil::core
