#pragma once
// Simulated application traffic of running pods, as Prometheus series a real app would expose:
//   http_requests_total{namespace,pod,pod_template_hash,controller_revision_hash,code="200"|"500"}
//   http_request_duration_seconds{namespace,pod,pod_template_hash,controller_revision_hash} (histogram)
// Owned by main; driven by the Simulator's 1 s timer. Pod names as label values are deliberate here: these stand in
// for the scraped workload metrics canary-guard queries, not for canary-guard's own metrics.
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "tests/sandbox/podsim/pod_model.hpp"

namespace canary_guard::podsim {

class Traffic {
 public:
  Traffic(prometheus::Registry& registry, double requests_per_second, std::uint64_t seed = 42);

  // Adds `elapsed_seconds` worth of requests for the pod (creating its series on first use).
  void advance(const PodIdentity& pod, double elapsed_seconds, int error_percent, std::optional<int> latency_ms);
  // Drops the pod's series (pod deleted or no longer running).
  void remove(const std::string& key);
  bool has(const std::string& key) const { return pods_.count(key) != 0; }
  std::size_t size() const { return pods_.size(); }

  static const std::vector<double>& buckets();

 private:
  struct Series {
    prometheus::Counter* ok = nullptr;
    prometheus::Counter* errors = nullptr;
    prometheus::Histogram* duration = nullptr;
    double request_carry = 0;  // fractional requests not yet counted
    double error_carry = 0;    // fractional errors not yet counted
  };

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  double rps_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, Series> pods_;  // key ns/name
  std::vector<double> increments_;                // scratch, one per bucket + Inf
};

}  // namespace canary_guard::podsim
