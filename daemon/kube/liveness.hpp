#pragma once
// Liveness: whether an informer's cache can be taken as the current state of the cluster. An informer is live after
// a successful list, while its watch is open and has shown life within `bound`; it is not live before its first
// list, after any failed list or watch (until a list succeeds or a new watch opens), and after silence past `bound`
// (a connection that stopped moving without closing: a frozen proxy, a dropped flow). Signs of life: a list, a watch
// opening, an event or bookmark, a stream the server ended. The informer asks for watch timeouts well under `bound`,
// so a live stream always shows one in time. Time is injected (monotonic milliseconds); one thread.
#include <chrono>
#include <optional>
#include <string>

#include "config/clock.hpp"

namespace canary_guard::kube {

class Liveness {
 public:
  explicit Liveness(Duration bound = std::chrono::seconds{60}) : bound_(bound) {}

  void listed(Duration now) {
    listed_ = true;
    failure_.reset();
    last_life_ = now;
  }
  // A watch opened, an event or bookmark arrived, or the server ended a stream cleanly.
  void alive(Duration now) {
    if (!listed_) return;  // nothing to be live about before the first list
    failure_.reset();
    last_life_ = now;
  }
  void failed(std::string why) { failure_ = std::move(why); }

  bool live(Duration now) const { return why_not(now).empty(); }
  // Empty when live; otherwise one phrase for /readyz and logs.
  std::string why_not(Duration now) const {
    if (!listed_) return failure_ ? "not listed yet (" + *failure_ + ")" : "not listed yet";
    if (failure_) return *failure_;
    if (now - last_life_ > bound_)
      return "no sign of life for " + std::to_string((now - last_life_).count() / 1000) + " s (frozen watch?)";
    return {};
  }
  Duration bound() const { return bound_; }

 private:
  Duration bound_;
  bool listed_ = false;
  std::optional<std::string> failure_;
  Duration last_life_{0};
};

}  // namespace canary_guard::kube
