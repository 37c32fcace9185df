#pragma once
// Injected time. Production code asks a Clock; unit tests advance a ManualClock and never sleep.
#include <chrono>

namespace canary_guard {

using Duration = std::chrono::milliseconds;
// Wall-clock time point (Kubernetes timestamps are wall time).
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// Monotonic time for delays and timers (the work queue): never jumps when the wall clock is set. elapsed() counts
// from an arbitrary fixed start; only differences mean anything.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual Duration elapsed() const = 0;
};

class SteadyClock final : public MonotonicClock {
 public:
  Duration elapsed() const override {
    return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
  }
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};

// Both clocks for tests: advancing it moves wall and monotonic time together (set() may move it back; then the
// monotonic reading goes back too, which tests of the monotonic users must not do).
class ManualClock final : public Clock, public MonotonicClock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{std::chrono::seconds{1'700'000'000}}) : now_(start) {}
  TimePoint now() const override { return now_; }
  Duration elapsed() const override { return now_.time_since_epoch(); }
  void advance(Duration d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

inline double to_unix_seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace canary_guard
