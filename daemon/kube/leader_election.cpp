#include "daemon/kube/leader_election.hpp"

namespace canary_guard::kube {

std::string timing_problem(const ElectionTimings& t) {
  if (t.retry_period.count() <= 0) return "retry_period must be positive";
  if (!(t.lease_duration > t.renew_deadline))
    return "lease_duration must be longer than renew_deadline (the leader stops before its lease can expire)";
  if (!(t.renew_deadline.count() * 10 > t.retry_period.count() * 12))
    return "renew_deadline must be longer than 1.2 x retry_period (client-go's jitter)";
  return {};
}

LeaderElection::Plan LeaderElection::observe(const std::optional<LeaseRecord>& current, Duration now,
                                             const std::string& now_text) {
  const auto lease_s = static_cast<std::int32_t>(std::chrono::duration_cast<std::chrono::seconds>(t_.lease_duration).count());
  if (!current) {
    observed_.reset();
    return Plan{Verdict::create, LeaseRecord{id_, lease_s, now_text, now_text, 0}};
  }
  if (!observed_ || !(*observed_ == *current)) {
    observed_ = *current;
    observed_at_ = now;
  }
  const bool mine = current->holder == id_;
  // Held by someone else and seen changing within the last lease duration (our own clock): not ours to take.
  if (!mine && !current->holder.empty() && now < observed_at_ + t_.lease_duration) return Plan{Verdict::wait, {}};
  LeaseRecord next{id_, lease_s, now_text, now_text, current->transitions};
  if (mine) {
    next.acquire_time = current->acquire_time;
  } else {
    next.transitions = current->transitions + 1;
  }
  return Plan{Verdict::write, next};
}

void LeaderElection::written(bool ok, const LeaseRecord& record, Duration now) {
  if (!ok) return;
  observed_ = record;
  observed_at_ = now;
  renewed_at_ = now;
}

bool LeaderElection::leading(Duration now) const { return renewed_at_ && now < *renewed_at_ + t_.renew_deadline; }

LeaseRecord LeaderElection::release_record(const std::string& now_text) const {
  LeaseRecord r = observed_.value_or(LeaseRecord{});
  r.holder.clear();
  r.lease_duration_seconds = 1;
  r.acquire_time = now_text;
  r.renew_time = now_text;
  return r;
}

}  // namespace canary_guard::kube
