#pragma once
// Internal to sim/simulator.cpp and the sim/simulation_*.cpp files:
// one run of one scenario with one seed. Not a public contract: simulate() is.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/node/client.h"
#include "core/node/session_order.h"
#include "core/random.h"
#include "sim/event_queue.h"
#include "sim/fiber.h"
#include "sim/history.h"
#include "sim/network.h"
#include "sim/node_host.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/workload.h"

namespace vigil::sim {

// Bounds of one run (rule 7); what happens at each is counted.
struct SimulationLimits {
  std::size_t events_max = 1024 * 1024;            // pending events; frames beyond are dropped
  std::int64_t fault_jitter_us_max = 100000;       // faults fire up to this much after `at`
  std::int64_t client_timeout_slack_us = 1000000;  // client timeout = request_timeout + this
  std::int64_t client_poll_us = 100000;            // how often the script checks clients finished
  std::uint32_t operations_in_flight_max = 128;    // per client; arrivals beyond are skipped
};

class Simulation final : public ClientPort {
 public:
  Simulation(const Scenario& scenario, std::uint64_t seed, const SimulationOptions& options);
  ~Simulation() override;

  SimulationResult run();

  // ClientPort (simulation_clients.cpp), called from client fibers.
  std::int64_t now_us() const override { return now_us_; }
  void sleep_until(std::int64_t time_us) override { fibers_.sleep_until(time_us); }
  std::optional<core::ClientReply> call(std::uint32_t node, core::ClientRequest request) override;
  bool start_operation(std::uint32_t client, std::function<void()> operation) override;
  bool stopping() const override { return stopping_; }
  std::uint32_t node_count() const override { return static_cast<std::uint32_t>(hosts_.size()); }
  const core::NodeId& node_id(std::uint32_t node) const override { return hosts_[node]->id(); }
  History& history() override { return history_; }
  ClientRouting* routing() override { return routing_.get(); }

 private:
  // A client call from invocation until its fiber has the answer.
  struct PendingCall {
    FiberId fiber = 0;
    std::uint64_t token = 0;
    std::uint32_t node = 0;
    core::ClientRequest request;  // until it reaches the node
    core::Key key;                // the request's (kept for the checks at the reply)
    core::ClientOp op = core::ClientOp::get;
    std::optional<std::uint32_t> client;  // the workload client; none for the final reads
    bool at_node = false;         // the node has it (a crash resets the connection)
    bool reply_sent = false;      // a reply is on its way or has arrived
    bool reply_arrived = false;
    core::ClientReply reply;
  };

  // A pipelining client's connection (workload.pipeline > 0): its calls take effect in
  // order per key, by the same rule as a RESP connection's commands.
  struct Session {
    explicit Session(std::size_t capacity) : order(capacity) {}
    struct Waiter {
      FiberId fiber = 0;
      std::uint64_t token = 0;
    };
    core::SessionOrder order;
    std::map<std::uint64_t, Waiter> waiting;  // by call id
  };

  // One fault to inject: a scenario fault (at its jittered time), or the end-of-run heal.
  struct FaultAction {
    std::int64_t at_us = 0;
    const Fault* fault = nullptr;  // nullptr: heal everything (network, nodes, clogs)
  };

  // simulator.cpp: the event loop.
  void dispatch(Event event, bool resumed);
  void on_deliver(Event event, bool resumed);
  void on_timer(const Event& event, bool resumed);
  void on_commit(const Event& event);
  // Asserts that an acknowledged write has at least the copies its W promised, committed
  // on the replicas (or in hints) at the moment the client is answered (sim/check_copies.cpp).
  void check_copies_at_ack(const core::Key& key, const core::ClientReply& reply);
  std::set<std::uint32_t> disk_faulted_;  // nodes whose disk lied or rotted: not checked
  void apply_effects(std::uint32_t node, HostEffects effects);
  void send_message(std::uint32_t from, const core::Envelope& envelope);
  void record(const Event& event);
  void trace(const Event& event);
  void trace(const Event& event, std::ostream& out);
  void note_hash(const Event& event);
  std::uint32_t index_of(const core::NodeId& id) const;

  // simulation_clients.cpp: client traffic.
  void on_client_request(Event event);
  void on_client_reply(const Event& event);
  void send_reply(std::uint32_t node, core::ClientReply reply);
  // Replies `code` to every call the node holds (its connections reset on crash).
  void reset_connections(std::uint32_t node);
  void spawn_clients();
  // The session of the operation the current fiber runs; nullptr without pipelining.
  Session* current_session();
  // The call `id` of `session` completed: wakes the calls it lets run.
  void release(Session& session, std::uint64_t id);

  // simulation_faults.cpp: the scenario script and fault actions.
  void plan_faults();
  void run_script();
  void on_fault(const Event& event);
  void apply_fault(const Fault& fault);
  void heal_everything();
  void crash_node(std::uint32_t node);
  void restart_node(std::uint32_t node);
  void resume_node(std::uint32_t node);
  void corrupt_record(std::uint32_t node);
  // simulation_clients.cpp: client-to-node partitions.
  void cut_clients(const std::vector<std::uint32_t>& clients,
                   const std::vector<std::uint32_t>& nodes, std::int64_t until_us);
  // The client whose call this is cannot reach `node` now (its operation fiber's client;
  // the final reads are never cut off).
  bool client_cut_off(std::optional<std::uint32_t> client, std::uint32_t node) const;

  // simulation_hints.cpp: what the hinted-handoff and availability checks read.
  // Appends the current fault state to the timeline when it changed.
  void note_fault_state();
  // Hints pending on every node and every workload key's replica values, before the final
  // reads.
  void snapshot_replicas();
  // Every store's records and the tombstone-only ones among them, before the final reads
  // (when the scenario lists tombstones_collected).
  void snapshot_tombstones();
  std::uint32_t node_index(const core::NodeId& id) const { return index_of(id); }

  // simulation_convergence.cpp: what the convergence check reads (ConvergenceRecord).
  // Starts sampling at the end-of-run heal (when the scenario lists the check).
  void start_convergence_sampling();
  // Called with every event before it is processed: takes the samples due before it.
  void sample_convergence_before(std::int64_t event_us) {
    if (convergence_next_us_ >= 0 && event_us >= convergence_next_us_) {
      sample_convergence(event_us);
    }
  }
  void sample_convergence(std::int64_t event_us);
  // After the quiesce, before the final reads: the end figures.
  void finish_convergence();
  std::vector<std::uint32_t> node_indices(const std::vector<core::NodeId>& ids) const;

  void count(const std::string& name, std::uint64_t amount = 1) { counters_[name] += amount; }

  const Scenario& scenario_;
  std::uint64_t seed_;
  SimulationOptions options_;
  SimulationLimits limits_;
  std::int64_t client_timeout_us_ = 0;

  EventQueue queue_;
  FiberScheduler fibers_;
  Network network_;
  std::vector<std::unique_ptr<NodeHost>> hosts_;
  std::unique_ptr<ClientRouting> routing_;  // workload.routing set
  std::map<core::NodeId, std::uint32_t> index_of_;
  History history_;
  core::Random fault_random_;

  std::int64_t now_us_ = 0;
  std::uint64_t trace_hash_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t faults_injected_ = 0;
  std::string record_buffer_;
  std::map<std::string, std::uint64_t> counters_;
  std::vector<FaultState> fault_timeline_;
  std::vector<PeerTransitionRecord> peer_transitions_;
  std::vector<CrashRecord> crashes_;
  std::map<core::NodeId, std::uint64_t> hints_pending_;
  std::map<core::Key, std::map<core::NodeId, std::vector<core::Value>>> replica_values_;
  std::map<core::Key, core::PnCounter> replica_counters_;
  ConvergenceRecord convergence_;
  TombstoneRecord tombstones_;
  std::int64_t convergence_next_us_ = -1;  // the next sample's time; -1: not sampling
  std::int64_t convergence_cadence_us_ = 1000000;

  std::map<std::uint64_t, PendingCall> calls_;  // by call id (the request id nodes see)
  std::uint64_t next_call_id_ = 1;
  std::vector<std::uint32_t> operations_in_flight_;  // per client
  std::vector<Session> sessions_;                    // per client, when pipelining
  std::map<FiberId, std::uint32_t> operation_client_;  // fiber -> client whose operation it runs
  std::size_t workload_fibers_ = 0;                  // clients and their operations still running
  std::vector<FaultAction> actions_;
  // (client, node) -> until when the client cannot reach the node (client_partition).
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::int64_t> client_cut_until_us_;
  bool stopping_ = false;
  bool done_ = false;
};

}  // namespace vigil::sim
