#pragma once
// RollbackSlots: the fleet-wide set of workloads with a rollback in flight, which enforces
// max_concurrent_rollbacks as a hard limit. A slot is reserved synchronously, before the first await of a rollback
// (one thread: no two reconciles can both see a free slot), and released when the rollback record ends. At start
// the set is rebuilt from the rollback records in the caches before any action is taken. Owned by the Controller.
// Pure: standard library only.
#include <cstddef>
#include <string>
#include <unordered_set>

namespace canary_guard::guard {

class RollbackSlots {
 public:
  explicit RollbackSlots(int limit) : limit_(limit < 1 ? 1 : limit) {}

  // True when `key` holds a slot afterwards: it already held one, or one was free.
  bool try_reserve(const std::string& key) {
    if (held_.count(key)) return true;
    if (static_cast<int>(held_.size()) >= limit_) return false;
    held_.insert(key);
    return true;
  }
  // Records an open rollback found in the cluster (start-up rebuild, or a record another replica wrote). May
  // exceed the limit: what is already running is counted, never cancelled.
  void adopt(const std::string& key) { held_.insert(key); }
  void release(const std::string& key) { held_.erase(key); }
  bool holds(const std::string& key) const { return held_.count(key) != 0; }
  // Slots held by other workloads than `key`.
  int others(const std::string& key) const {
    return static_cast<int>(held_.size()) - (held_.count(key) ? 1 : 0);
  }
  std::size_t size() const { return held_.size(); }
  int limit() const { return limit_; }

 private:
  int limit_;
  std::unordered_set<std::string> held_;
};

}  // namespace canary_guard::guard
