#pragma once
// StepTrace: where the time of one rollback went, for the log line `event=rollback_trace` and the latency
// benchmark. Each mark() records the time since the previous mark (or since the trace began) under a step name;
// str() prints "late=3ms fresh_read=12ms record+prepare=8ms patch=5ms". The clock is injected (MonotonicClock), so
// it is tested with a manual one. Not thread-safe: one reconcile owns it.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/clock.hpp"

namespace canary_guard::guard {

class StepTrace {
 public:
  explicit StepTrace(const MonotonicClock& clock) : clock_(clock), start_(clock.elapsed()), last_(start_) {}

  // A step that ended now: its time is the time since the previous mark.
  void mark(std::string_view step) {
    const Duration now = clock_.elapsed();
    steps_.emplace_back(std::string(step), now - last_);
    last_ = now;
  }
  // A wait that happened before the trace began (a timer that fired late, a queue): recorded as a step of its own and
  // counted in total().
  void before(std::string_view step, Duration d) {
    steps_.insert(steps_.begin(), {std::string(step), d});
    earlier_ += d;
  }
  Duration total() const { return last_ - start_ + earlier_; }
  bool empty() const { return steps_.empty(); }
  std::string str() const {
    std::string out;
    for (const auto& [name, d] : steps_) {
      if (!out.empty()) out += ' ';
      out += name + "=" + std::to_string(d.count()) + "ms";
    }
    return out;
  }

 private:
  const MonotonicClock& clock_;
  Duration start_, last_;
  Duration earlier_{0};
  std::vector<std::pair<std::string, Duration>> steps_;
};

}  // namespace canary_guard::guard
