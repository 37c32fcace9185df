#include "daemon/app/status.hpp"

#include "probes/metric_analysis.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "daemon/app/list_views.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/guard/revision_of.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"
#include "probes/rollout_status.hpp"

namespace canary_guard::app {

namespace {

using kube::Result;


void fill_guard_columns(StatusRow& row, const std::vector<guard::Revision>& revs) {
  row.verdict = "pending";
  row.rollback = "-";
  for (const auto& r : revs) {
    if (r.hash == row.hash && r.verdict) row.verdict = std::string(guard::to_string(r.verdict->verdict));
    if (r.rollback && (r.rollback->state == guard::RollbackState::started ||
                       r.rollback->state == guard::RollbackState::waiting || r.rollback->to == row.hash))
      row.rollback = std::string(guard::to_string(r.rollback->state)) + " " + std::to_string(r.number) + "->" +
                     std::to_string(r.rollback->to_revision);
  }
  auto healthy = guard::rollback_target(revs, "");
  row.last_healthy = healthy ? std::to_string(healthy->number) + " (" + healthy->name + ")" : "-";
}

// The persisted windows of the current rollout ("error-ratio=PPF! p99=!"), "-" when there are none; a record of an
// earlier rollout of the same template, or in an older format, is not this rollout's analysis.
std::string checks_column(const probes::KeyValues& annotations, const std::string& hash, std::int64_t rollout) {
  const std::string* t = probes::find_value(annotations, probes::kAnalysisAnnotation);
  if (!t) return "-";
  auto a = probes::parse_analysis(*t, hash);
  if (!a || a->rollout != rollout) return "-";
  std::string out;
  for (const auto& [name, st] : a->checks) {
    if (st.window.empty() && !st.passed) continue;
    out += (out.empty() ? "" : " ") + name + "=" + st.window + (st.passed ? "!" : "");
  }
  if (a->blind) out += out.empty() ? "(blind)" : " (blind)";
  return out.empty() ? "-" : out;
}

std::string trim_nl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

boost::asio::awaitable<Result<std::vector<StatusRow>>> collect_status(kube::Client& c, std::string ns) {
  auto deps = co_await list_views<probes::DeploymentView>(c, kube::paths::deployments(ns));
  if (!deps) co_return unexpected(deps.error());
  auto rss = co_await list_views<probes::ReplicaSetView>(c, kube::paths::replicasets(ns));
  if (!rss) co_return unexpected(rss.error());
  auto dss = co_await list_views<probes::DaemonSetView>(c, kube::paths::daemonsets(ns));
  if (!dss) co_return unexpected(dss.error());
  auto crs = co_await list_views<probes::ControllerRevisionView>(c, kube::paths::controllerrevisions(ns));
  if (!crs) co_return unexpected(crs.error());
  StatusObjects objects;
  for (const auto& v : *deps) objects.deployments.push_back(&v);
  for (const auto& v : *rss) objects.replicasets.push_back(&v);
  for (const auto& v : *dss) objects.daemonsets.push_back(&v);
  for (const auto& v : *crs) objects.revisions.push_back(&v);
  co_return build_status(objects);
}

std::vector<StatusRow> build_status(const StatusObjects& objects) {
  std::multimap<std::string, const probes::ReplicaSetView*> rs_by_owner;
  for (const auto* rs : objects.replicasets) rs_by_owner.emplace(rs->meta.controller_uid, rs);
  std::multimap<std::string, const probes::ControllerRevisionView*> cr_by_owner;
  for (const auto* cr : objects.revisions) cr_by_owner.emplace(cr->meta.controller_uid, cr);

  std::vector<StatusRow> rows;
  for (const auto* dp : objects.deployments) {
    const auto& d = *dp;
    StatusRow row;
    row.kind = "Deployment";
    row.ns = d.meta.ns;
    row.name = d.meta.name;
    const std::int64_t rev = guard::deployment_revision(d.meta.annotations).value_or(0);
    row.revision = rev;
    std::vector<guard::Revision> revs;
    auto [b, e] = rs_by_owner.equal_range(d.meta.uid);
    for (auto it = b; it != e; ++it) {
      const auto* rs = it->second;
      revs.push_back(guard::revision_of(*rs, rs->pod_template_hash, rs->revision));
      if (rs->revision == rev) {
        row.revision_object = rs->meta.name;
        row.hash = rs->pod_template_hash;
        row.checks = checks_column(rs->meta.annotations, rs->pod_template_hash, rs->revision);
      }
    }
    row.desired = d.spec_replicas;
    row.updated = d.updated_replicas;
    row.ready = d.ready_replicas;
    row.available = d.available_replicas;
    auto st = probes::deployment_rollout_status(d);
    row.message = trim_nl(st.message);
    using S = probes::RolloutStatus::State;
    if (d.paused) row.state = "paused";
    else if (st.state == S::success) row.state = "complete";
    else if (st.state == S::failed) row.state = "deadline exceeded";
    else if (st.state == S::error) row.state = "error";
    else row.state = "progressing";
    fill_guard_columns(row, revs);
    rows.push_back(std::move(row));
  }
  for (const auto* dsp : objects.daemonsets) {
    const auto& ds = *dsp;
    StatusRow row;
    row.kind = "DaemonSet";
    row.ns = ds.meta.ns;
    row.name = ds.meta.name;
    std::vector<guard::Revision> revs;
    const probes::ControllerRevisionView* cur = nullptr;
    auto [b, e] = cr_by_owner.equal_range(ds.meta.uid);
    for (auto it = b; it != e; ++it) {
      revs.push_back(guard::revision_of(*it->second, it->second->hash, it->second->revision));
      // The current revision is the one with the DaemonSet's template (as the guard judges it, observe.hpp).
      if (it->second->template_hash == ds.template_hash && (!cur || it->second->revision > cur->revision))
        cur = it->second;
    }
    if (cur) {
      row.revision = cur->revision;
      row.revision_object = cur->meta.name;
      row.hash = cur->hash;
      row.checks = checks_column(cur->meta.annotations, cur->hash, cur->revision);
    }
    row.desired = ds.desired_number_scheduled;
    row.updated = ds.updated_number_scheduled;
    row.ready = ds.number_ready;
    row.available = ds.number_available;
    auto st = probes::daemonset_rollout_status(ds);
    row.message = trim_nl(st.message);
    using S = probes::RolloutStatus::State;
    if (ds.update_strategy == "OnDelete") row.state = "on-delete";
    else if (st.state == S::success) row.state = "complete";
    else row.state = "progressing";
    fill_guard_columns(row, revs);
    // OnDelete: pods change only when someone deletes them, so the guard judges nothing (OnDeleteNotJudged Event).
    if (ds.update_strategy != "RollingUpdate" && row.verdict == "pending") row.verdict = "not-judged";
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const StatusRow& a, const StatusRow& b) {
    return std::tie(a.ns, a.kind, a.name) < std::tie(b.ns, b.kind, b.name);
  });
  return rows;
}

void print_table(const std::vector<StatusRow>& rows, std::ostream& out) {
  const std::vector<std::string> head = {"NAMESPACE", "KIND", "NAME", "REVISION", "REVISION-OBJECT", "HASH", "DESIRED",
                                         "UPDATED", "READY", "AVAILABLE", "STATE", "VERDICT", "LAST-HEALTHY", "ROLLBACK", "CHECKS"};
  std::vector<std::vector<std::string>> cells;
  cells.push_back(head);
  for (const auto& r : rows)
    cells.push_back({r.ns, r.kind, r.name, std::to_string(r.revision), r.revision_object.empty() ? "-" : r.revision_object,
                     r.hash.empty() ? "-" : r.hash, std::to_string(r.desired), std::to_string(r.updated),
                     std::to_string(r.ready), std::to_string(r.available), r.state, r.verdict, r.last_healthy,
                     r.rollback, r.checks});
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 3, ' ');
    }
    out << '\n';
  }
  if (rows.empty()) out << "No Deployments or DaemonSets found.\n";
}

void print_json(const std::vector<StatusRow>& rows, std::ostream& out) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : rows)
    arr.push_back({{"kind", r.kind}, {"namespace", r.ns}, {"name", r.name}, {"revision", r.revision},
                   {"revisionObject", r.revision_object}, {"hash", r.hash},
                   {"replicas", {{"desired", r.desired}, {"updated", r.updated}, {"ready", r.ready}, {"available", r.available}}},
                   {"state", r.state}, {"message", r.message}, {"verdict", r.verdict}, {"lastHealthy", r.last_healthy},
                   {"rollback", r.rollback}, {"checks", r.checks}});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].checks_live) continue;
    nlohmann::json live = nlohmann::json::array();
    for (const auto& c : *rows[i].checks_live) {
      nlohmann::json v = c.value ? nlohmann::json(*c.value) : nlohmann::json(nullptr);
      nlohmann::json lc = {{"name", c.name}, {"window", c.window}, {"passed", c.passed}, {"tripped", c.tripped},
                           {"last_outcome", c.last_outcome.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.last_outcome)},
                           {"value", v}, {"detail", c.detail},
                           {"at", c.at.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.at)}};
      if (!c.value_text.empty()) lc["value_text"] = c.value_text;
      live.push_back(std::move(lc));
    }
    arr[i]["checks_live"] = std::move(live);
  }
  out << nlohmann::json{{"items", arr}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace canary_guard::app
