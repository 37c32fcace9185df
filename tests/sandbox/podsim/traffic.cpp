#include "tests/sandbox/podsim/traffic.hpp"

#include <algorithm>
#include <cmath>

namespace canary_guard::podsim {

Traffic::Traffic(prometheus::Registry& registry, double requests_per_second, std::uint64_t seed)
    : requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("Requests served by simulated pods (podsim).")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("http_request_duration_seconds")
                     .Help("Latency of requests served by simulated pods (podsim).")
                     .Register(registry)),
      rps_(std::max(0.0, requests_per_second)),
      rng_(seed),
      increments_(buckets().size() + 1, 0.0) {}

const std::vector<double>& Traffic::buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

void Traffic::advance(const PodIdentity& pod, double elapsed_seconds, int error_percent,
                      std::optional<int> latency_ms) {
  const std::string key = pod.ns + "/" + pod.name;
  auto it = pods_.find(key);
  if (it == pods_.end()) {
    const prometheus::Labels id{{"namespace", pod.ns},
                                {"pod", pod.name},
                                {"pod_template_hash", pod.pod_template_hash},
                                {"controller_revision_hash", pod.controller_revision_hash}};
    auto with_code = [&](const char* code) {
      auto l = id;
      l["code"] = code;
      return l;
    };
    Series s;
    s.ok = &requests_.Add(with_code("200"));
    s.errors = &requests_.Add(with_code("500"));
    s.duration = &durations_.Add(id, buckets());
    it = pods_.emplace(key, s).first;
  }
  Series& s = it->second;
  if (!(elapsed_seconds > 0)) return;

  // Carries keep the long-run rate and error share exact without randomness in the counts.
  s.request_carry += rps_ * std::min(elapsed_seconds, 60.0);
  const auto requests = static_cast<std::int64_t>(s.request_carry);
  s.request_carry -= static_cast<double>(requests);
  if (requests == 0) return;
  s.error_carry += static_cast<double>(requests) * std::clamp(error_percent, 0, 100) / 100.0;
  const auto errors = std::min(requests, static_cast<std::int64_t>(s.error_carry));
  s.error_carry -= static_cast<double>(errors);
  s.ok->Increment(static_cast<double>(requests - errors));
  if (errors > 0) s.errors->Increment(static_cast<double>(errors));

  // Log-normal latency with the median at the requested value (default 20 ms): a realistic right tail.
  const double median = std::max(0.0001, latency_ms.value_or(20) / 1000.0);
  std::lognormal_distribution<double> dist(std::log(median), 0.25);
  std::fill(increments_.begin(), increments_.end(), 0.0);
  double sum = 0;
  const auto& b = buckets();
  for (std::int64_t i = 0; i < requests; ++i) {
    const double v = dist(rng_);
    sum += v;
    const auto idx = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
    increments_[idx] += 1;  // idx == b.size() is the +Inf bucket
  }
  s.duration->ObserveMultiple(increments_, sum);
}

void Traffic::remove(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  requests_.Remove(it->second.ok);
  requests_.Remove(it->second.errors);
  durations_.Remove(it->second.duration);
  pods_.erase(it);
}

}  // namespace canary_guard::podsim
