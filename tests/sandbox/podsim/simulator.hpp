#pragma once
// Simulator: plays the kubelet of N fake nodes and the scheduler for the sandbox control plane. Keeps Nodes Ready
// and untainted, binds pending pods to a node that fits them (scheduling.hpp; a pod no node fits gets
// PodScheduled=False Unschedulable and is re-checked every tick), drives pod status through the status
// subresource, deletes terminating pods and feeds Traffic for running ones. Level-triggered: watch events and timers only mark pods and enqueue keys;
// a small pool of workers does one action per key (delete, bind or write status), reading the latest record.
// Lives on the one io_context thread; owned by podsim's main.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/clock.hpp"
#include "daemon/kube/client.hpp"
#include "tests/sandbox/podsim/pod_info.hpp"
#include "tests/sandbox/podsim/pod_model.hpp"
#include "tests/sandbox/podsim/traffic.hpp"

namespace canary_guard::podsim {

struct SimulatorOptions {
  int nodes = 3;
  Timing timing;
  Duration tick{250};             // how often pod timelines are re-evaluated
  Duration node_refresh{20'000};  // heartbeat and taint re-assertion
  int workers = 4;                // concurrent API writes
  // Length of one watch request; the server ends it and podsim resumes from the last resourceVersion. (A 1 s
  // window was the workaround while kube::Client::watch delivered lines only when its read buffer filled.)
  int watch_timeout_seconds = 300;
};

class Simulator {
 public:
  Simulator(boost::asio::io_context& ioc, kube::Client& client, Traffic& traffic, const Clock& clock,
            SimulatorOptions options);

  // Starts every loop; returns at once (the loops run until the io_context stops).
  void start();

  struct Stats {
    std::uint64_t binds = 0, unschedulable = 0, status_writes = 0, deletes = 0, conflicts = 0, errors = 0, watch_events = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  // Everything known about one pod, keyed ns/name.
  struct Record {
    PodInfo info;
    std::unique_ptr<SimPod> sim;  // set once the pod is on one of our nodes
    bool dirty = false;           // sim status not yet written
    std::uint64_t sim_version = 0;  // bumped on every visible change of sim, to tell a write overtaken by one
    int conflicts = 0;              // consecutive 409s on status writes
    bool delete_done = false;     // DELETE accepted; waiting for the watch to report it gone
    bool bind_done = false;       // Binding accepted; waiting for nodeName to show up
    bool in_flight = false;
    int failures = 0;
    std::chrono::steady_clock::time_point next_attempt{};
  };
  enum class Action { none, remove, bind, mark_unschedulable, write_status };

  kube::Task<void> node_loop();
  kube::Task<void> ensure_node(int index);
  kube::Task<void> pod_watch_loop();
  kube::Task<void> tick_loop();
  kube::Task<void> worker();
  kube::Task<void> sync(std::string key);
  kube::Task<bool> do_delete(const std::string& key, Record& rec);
  kube::Task<bool> do_bind(const std::string& key, Record& rec);
  kube::Task<bool> do_mark_unschedulable(const std::string& key, Record& rec);
  kube::Task<bool> do_write_status(const std::string& key, Record& rec);
  kube::Task<void> sleep_for(Duration d);

  void spawn(kube::Task<void> task, const char* what);
  void upsert(PodInfo info);
  void forget(const std::string& key);
  void handle_watch_line(std::string_view line, std::string& rv, bool& gone);
  void replace_all(const nlohmann::json& items);
  Action next_action(const Record& rec) const;
  void enqueue(const std::string& key);
  void failed(Record& rec);
  void ensure_sim(Record& rec);
  bool our_node(const std::string& name) const;
  // Feasible nodes for a pending pod; nullopt while no node's labels and allocatable are known yet.
  std::optional<SchedulingDecision> decide(const PodInfo& pod) const;
  std::string pick_node(const PodInfo& pod);
  std::string allocate_pod_ip();
  Duration jitter(Duration base);

  boost::asio::io_context& ioc_;
  kube::Client& client_;
  Traffic& traffic_;
  const Clock& clock_;
  SimulatorOptions options_;
  std::vector<std::string> node_names_;
  std::unordered_map<std::string, TimePoint> node_ready_since_;
  std::unordered_map<std::string, SchedNode> sched_nodes_;  // as last read from the server, by name
  std::unordered_map<std::string, Record> pods_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_;
  boost::asio::steady_timer wakeup_;
  std::size_t next_node_ = 0;
  std::uint32_t next_ip_ = 0;
  std::mt19937 rng_{std::random_device{}()};
  Stats stats_;
};

}  // namespace canary_guard::podsim
