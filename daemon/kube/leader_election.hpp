#pragma once
// LeaderElection: the decision core of leader election over a coordination.k8s.io/v1 Lease, with client-go's
// leaderelection semantics (tryAcquireOrRenew), pure and driven by a monotonic clock the caller passes in:
//  - A candidate takes over only after a full lease duration during which it observed no change of the Lease record
//    itself, timed by its own clock: the Lease's timestamps are never compared with local time (clock skew).
//  - An empty holder (a leader that released on shutdown) can be taken at once.
//  - The leader renews every retry period; when it has not renewed for renew_deadline it stops leading, before its
//    lease (lease_duration > renew_deadline) can expire for the others.
//  - Every write carries the resourceVersion it read: two candidates cannot both win the same Lease version.
// The I/O loop that uses it is app::LeaderElector. Tested with a manual clock (tests/unit/kube_leader_election_test.cpp).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/clock.hpp"

namespace canary_guard::kube {

// The Lease's spec, as read or to be written. Times are RFC 3339 micro-time text as the API holds them: they are
// compared for change, never with the local clock.
struct LeaseRecord {
  std::string holder;
  std::int32_t lease_duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  std::int32_t transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

struct ElectionTimings {
  Duration lease_duration{15'000};
  Duration renew_deadline{10'000};
  Duration retry_period{2'000};
};
// Empty when lease_duration > renew_deadline > 1.2 x retry_period (client-go's JitterFactor) holds; else why not.
std::string timing_problem(const ElectionTimings& t);

class LeaderElection {
 public:
  LeaderElection(std::string identity, ElectionTimings timings) : id_(std::move(identity)), t_(timings) {}

  enum class Verdict {
    create,  // no Lease exists: create it holding it
    write,   // write `proposal` (acquire or renew) with the read resourceVersion
    wait,    // someone else holds a live lease: try again after retry_period
  };
  struct Plan {
    Verdict verdict = Verdict::wait;
    LeaseRecord proposal;
  };
  // The Lease as just read (nullopt: not found), at monotonic time `now`; `now_text` is the wall time to write.
  Plan observe(const std::optional<LeaseRecord>& current, Duration now, const std::string& now_text);
  // The write of the last plan succeeded (we hold the lease as of `now`) or failed (conflict, error).
  void written(bool ok, const LeaseRecord& record, Duration now);
  // True while leading: the last successful write is younger than renew_deadline.
  bool leading(Duration now) const;
  // The record to write on clean shutdown (holder emptied, 1 s lease, so a successor takes over at once).
  LeaseRecord release_record(const std::string& now_text) const;
  const std::string& identity() const { return id_; }
  const ElectionTimings& timings() const { return t_; }

 private:
  std::string id_;
  ElectionTimings t_;
  std::optional<LeaseRecord> observed_;
  Duration observed_at_{0};
  std::optional<Duration> renewed_at_;  // our last successful write
};

}  // namespace canary_guard::kube
