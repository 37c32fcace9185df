#include "daemon/app/leader_elector.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/rfc3339.hpp"
#include "daemon/app/metrics.hpp"

namespace canary_guard::app {

namespace asio = boost::asio;

namespace {

// MicroTime as the API writes it: six fraction digits.
std::string micro_time(TimePoint t) {
  std::string s = format_rfc3339_ms(t);  // ...T08:00:00.123Z
  if (!s.empty() && s.back() == 'Z') s.insert(s.size() - 1, "000");
  return s;
}

std::optional<kube::LeaseRecord> record_of(const nlohmann::json& lease) {
  kube::LeaseRecord r;
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return r;
  r.holder = spec->value("holderIdentity", std::string());
  r.lease_duration_seconds = spec->value("leaseDurationSeconds", 0);
  r.acquire_time = spec->value("acquireTime", std::string());
  r.renew_time = spec->value("renewTime", std::string());
  r.transitions = spec->value("leaseTransitions", 0);
  return r;
}

}  // namespace

std::string default_identity() {
  char host[256] = "canary-guard";
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
  return std::string(host) + "_" + suffix;
}

LeaderElector::LeaderElector(asio::io_context& ioc, kube::Client& client, const config::LeaderElectionSection& cfg,
                             std::string identity, const Clock& wall, Metrics* metrics, OnChange on_change)
    : ioc_(ioc),
      client_(client),
      cfg_(cfg),
      wall_(wall),
      metrics_(metrics),
      on_change_(std::move(on_change)),
      election_(std::move(identity), kube::ElectionTimings{cfg.lease_duration, cfg.renew_deadline, cfg.retry_period}),
      timer_(ioc) {}

std::string LeaderElector::lease_path() const {
  return "/apis/coordination.k8s.io/v1/namespaces/" + cfg_.lease_namespace + "/leases/" + cfg_.lease_name;
}

bool LeaderElector::leading() const { return !stopped_ && election_.leading(steady_.elapsed()); }

void LeaderElector::report() {
  const bool now = leading();
  if (now == was_leading_) return;
  if (was_leading_ && !now) lost_ = true;
  was_leading_ = now;
  if (metrics_) metrics_->leader(now);
  if (now)
    spdlog::info("component=leader event=started_leading identity={} lease={}/{}", identity(), cfg_.lease_namespace,
                 cfg_.lease_name);
  else
    spdlog::warn("component=leader event=stopped_leading identity={} lease={}/{} reason={}", identity(),
                 cfg_.lease_namespace, cfg_.lease_name, stopped_ ? "shutdown" : "not_renewed_within_renew_deadline");
  if (on_change_) on_change_(now);
}

asio::awaitable<void> LeaderElector::step() {
  const std::string path = lease_path();
  auto got = co_await client_.get(path);
  std::optional<kube::LeaseRecord> current;
  if (got) {
    current = record_of(*got);
    resource_version_ = (*got)["metadata"].value("resourceVersion", std::string());
  } else if (got.error().kind != kube::ErrorKind::not_found) {
    spdlog::debug("component=leader event=get_failed {}", kube::describe(got.error()));
    co_return;  // nothing learnt: the renew deadline decides
  }
  const std::string now_text = micro_time(wall_.now());
  auto plan = election_.observe(current, steady_.elapsed(), now_text);
  if (plan.verdict == kube::LeaderElection::Verdict::wait) {
    if (lost_ && current && current->holder != identity()) lost_ = false;  // a follower now, and healthy as one
    co_return;
  }
  nlohmann::json body = {{"apiVersion", "coordination.k8s.io/v1"},
                         {"kind", "Lease"},
                         {"metadata", {{"name", cfg_.lease_name}, {"namespace", cfg_.lease_namespace}}},
                         {"spec",
                          {{"holderIdentity", plan.proposal.holder},
                           {"leaseDurationSeconds", plan.proposal.lease_duration_seconds},
                           {"acquireTime", plan.proposal.acquire_time},
                           {"renewTime", plan.proposal.renew_time},
                           {"leaseTransitions", plan.proposal.transitions}}}};
  kube::Result<nlohmann::json> w = unexpected(kube::make_error(kube::ErrorKind::bad_data, "not sent"));
  if (plan.verdict == kube::LeaderElection::Verdict::create) {
    const std::string coll = "/apis/coordination.k8s.io/v1/namespaces/" + cfg_.lease_namespace + "/leases";
    const std::string payload = body.dump();
    w = co_await client_.create(coll, payload);
  } else {
    body["metadata"]["resourceVersion"] = resource_version_;  // optimistic concurrency: 409 if someone wrote first
    const std::string payload = body.dump();
    w = co_await client_.update(path, payload);
  }
  if (w) {
    resource_version_ = (*w)["metadata"].value("resourceVersion", std::string());
    election_.written(true, plan.proposal, steady_.elapsed());
    lost_ = false;
  } else {
    spdlog::debug("component=leader event=write_failed {}", kube::describe(w.error()));
    election_.written(false, plan.proposal, steady_.elapsed());
  }
}

asio::awaitable<void> LeaderElector::run() {
  spdlog::info("component=leader event=candidate identity={} lease={}/{} lease_duration_ms={} renew_deadline_ms={} "
               "retry_period_ms={}",
               identity(), cfg_.lease_namespace, cfg_.lease_name, cfg_.lease_duration.count(),
               cfg_.renew_deadline.count(), cfg_.retry_period.count());
  if (metrics_) metrics_->leader(false);
  // A renewal can hang for the client's whole request deadline (a frozen connection): leadership is a matter of
  // time, so a second loop notices the renew deadline passing while step() still waits.
  asio::co_spawn(
      ioc_,
      [this]() -> asio::awaitable<void> {
        asio::steady_timer t(ioc_);
        while (!stopped_) {
          report();
          t.expires_after(std::chrono::milliseconds(200));
          boost::system::error_code ec;
          co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
      },
      asio::detached);
  while (!stopped_) {
    co_await step();
    report();
    // client-go: the leader renews every retry_period; candidates retry every retry_period x [1, 1.2).
    const double jitter = leading() ? 1.0 : std::uniform_real_distribution<double>(1.0, 1.2)(rng_);
    auto wait = std::chrono::milliseconds(static_cast<long>(static_cast<double>(cfg_.retry_period.count()) * jitter));
    // A leader whose renewal is failing re-checks its own deadline in between, so it stops acting on time.
    if (was_leading_) wait = std::min(wait, std::chrono::milliseconds{500});
    timer_.expires_after(wait);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    report();
  }
}

asio::awaitable<void> LeaderElector::release() {
  const bool held = leading();
  stopped_ = true;
  timer_.cancel();
  report();
  if (!held) co_return;
  const auto rec = election_.release_record(micro_time(wall_.now()));
  nlohmann::json body = {{"apiVersion", "coordination.k8s.io/v1"},
                         {"kind", "Lease"},
                         {"metadata",
                          {{"name", cfg_.lease_name},
                           {"namespace", cfg_.lease_namespace},
                           {"resourceVersion", resource_version_}}},
                         {"spec",
                          {{"holderIdentity", rec.holder},
                           {"leaseDurationSeconds", rec.lease_duration_seconds},
                           {"acquireTime", rec.acquire_time},
                           {"renewTime", rec.renew_time},
                           {"leaseTransitions", rec.transitions}}}};
  const std::string path = lease_path();
  const std::string payload = body.dump();
  auto w = co_await client_.update(path, payload);
  if (w) spdlog::info("component=leader event=released identity={}", identity());
  else spdlog::warn("component=leader event=release_failed {}", kube::describe(w.error()));
}

}  // namespace canary_guard::app
