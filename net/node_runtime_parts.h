#pragma once
// NodeRuntime's owned parts, shared by node_runtime.cpp and node_runtime_commit.cpp.
// Private to net/.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <utility>

#include "core/node/node_driver.h"
#include "net/node_runtime.h"
#include "net/peer_transport.h"
#include "store/sqlite_store.h"
#include "store/typed_storage.h"

namespace vigil::net {

namespace asio = boost::asio;

struct NodeRuntime::Parts {
  Parts(asio::io_context& io, PeerTransportOptions transport_options,
        PeerTransport::EnvelopeHandler on_envelope)
      : transport(io, std::move(transport_options), std::move(on_envelope)),
        timer(io),
        drain_timer(io),
        commit_threads(core::pipelined_commits_max) {}
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<store::TypedStorage> storage;
  std::unique_ptr<core::NodeDriver> driver;
  PeerTransport transport;
  asio::steady_timer timer;
  asio::steady_timer drain_timer;
  // Run SqliteStore::finish_commit() (the WAL's fdatasync) while the loop goes on, one
  // thread per commit that may be in flight.
  asio::thread_pool commit_threads;
};

}  // namespace vigil::net
