#pragma once
// LeaderElector: runs kube::LeaderElection against the apiserver: GET the Lease, create or PUT it (with the
// resourceVersion read, so a stale candidate gets 409), every retry_period (jittered, as client-go), and tells the
// wiring when leadership changes. While not leading the daemon keeps its caches and probes warm and writes nothing
// (Controller::set_leading). On clean shutdown release() empties the holder, so a successor takes over at once.
// healthy() is false while this process lost a lease it held and has not renewed it (/healthz then fails, and a
// liveness probe restarts a wedged leader). Owned by run_guard; io thread only.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <random>
#include <string>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/leader_election.hpp"

namespace canary_guard::app {

class Metrics;

class LeaderElector {
 public:
  using OnChange = std::function<void(bool leading)>;
  LeaderElector(boost::asio::io_context& ioc, kube::Client& client, const config::LeaderElectionSection& cfg,
                std::string identity, const Clock& wall, Metrics* metrics, OnChange on_change);
  boost::asio::awaitable<void> run();
  // Stops the loop; when leading, writes the released record (bounded by the client's own deadline).
  boost::asio::awaitable<void> release();
  bool leading() const;
  bool healthy() const { return !lost_; }
  const std::string& identity() const { return election_.identity(); }

 private:
  boost::asio::awaitable<void> step();
  std::string lease_path() const;
  void report();
  boost::asio::io_context& ioc_;
  kube::Client& client_;
  const config::LeaderElectionSection& cfg_;
  const Clock& wall_;
  Metrics* metrics_;
  OnChange on_change_;
  SteadyClock steady_;
  kube::LeaderElection election_;
  std::string resource_version_;
  bool was_leading_ = false;
  bool lost_ = false;
  bool stopped_ = false;
  boost::asio::steady_timer timer_;
  std::mt19937 rng_{std::random_device{}()};
};

// hostname + "_" + 6 random hex digits (client-go's default is the hostname plus a UUID).
std::string default_identity();

}  // namespace canary_guard::app
