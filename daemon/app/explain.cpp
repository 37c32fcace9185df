#include "daemon/app/explain.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "config/rfc3339.hpp"
#include "daemon/app/list_views.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/revision_of.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::app {

namespace {

using kube::Result;

std::string seconds_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string checks_text(const probes::KeyValues& annotations, const std::string& hash, std::int64_t rollout) {
  const std::string* t = probes::find_value(annotations, probes::kAnalysisAnnotation);
  if (!t) return "-";
  auto a = probes::parse_analysis(*t, hash);
  if (!a || a->rollout != rollout) return "-";
  std::string out;
  for (const auto& [name, st] : a->checks)
    out += (out.empty() ? "" : " ") + name + "=" + st.window + (st.passed ? "!" : "");
  if (a->blind) out += out.empty() ? "(blind)" : " (blind)";
  return out.empty() ? "-" : out;
}

// The first RollbackSucceeded / RollbackFailed Event at or after `from` (seconds resolution: Events carry whole
// seconds, so a restore time is rounded down to the second before the decision).
const ExplainEvent* event_after(const std::vector<ExplainEvent>& events, std::string_view reason, TimePoint from) {
  const TimePoint floor = from - std::chrono::seconds{1};
  for (const auto& e : events)
    if (e.reason == reason && e.at >= floor) return &e;
  return nullptr;
}


std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Expected<std::pair<std::string, std::string>, std::string> parse_workload_arg(const std::string& arg) {
  const auto slash = arg.find('/');
  if (slash == std::string::npos || slash + 1 >= arg.size())
    return unexpected("expected deployment/NAME or daemonset/NAME, not '" + arg + "'");
  std::string kind = arg.substr(0, slash);
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string name = arg.substr(slash + 1);
  if (name.find('/') != std::string::npos) return unexpected("expected deployment/NAME or daemonset/NAME, not '" + arg + "'");
  if (kind == "deployment" || kind == "deployments" || kind == "deploy") return std::pair{std::string("Deployment"), name};
  if (kind == "daemonset" || kind == "daemonsets" || kind == "ds") return std::pair{std::string("DaemonSet"), name};
  return unexpected("'" + kind + "' is not a kind canary-guard guards (deployment or daemonset)");
}

boost::asio::awaitable<Result<Explanation>> collect_explain(kube::Client& c, std::string kind, std::string ns,
                                                            std::string name, std::string event_component) {
  Explanation e;
  e.kind = kind;
  e.ns = ns;
  e.name = name;
  const bool deployment = kind == "Deployment";
  // Named, not a conditional expression inside co_await: g++ 12 destroys such a temporary twice.
  const std::string path = deployment ? kube::paths::deployments(ns, name) : kube::paths::daemonsets(ns, name);
  auto obj = co_await c.get(path);
  if (!obj) co_return unexpected(obj.error());
  const std::string uid = str((*obj)["metadata"], "uid");
  e.paused = obj->contains("spec") && (*obj)["spec"].value("paused", false);
  std::vector<ExplainRevision> revs;
  if (deployment) {
    const std::string rs_path = kube::paths::replicasets(ns);
    auto rss = co_await list_views<probes::ReplicaSetView>(c, rs_path);
    if (!rss) co_return unexpected(rss.error());
    std::string dep_rev;
    if (auto a = (*obj)["metadata"].find("annotations"); a != (*obj)["metadata"].end() && a->is_object())
      dep_rev = str(*a, "deployment.kubernetes.io/revision");
    for (const auto& rs : *rss) {
      if (rs.meta.controller_uid != uid) continue;
      auto r = guard::revision_of(rs, rs.pod_template_hash, rs.revision);
      ExplainRevision x{r.number, r.hash, r.name, rs.meta.created, std::to_string(rs.revision) == dep_rev,
                        r.verdict, r.rollback, checks_text(rs.meta.annotations, r.hash, r.number)};
      if (x.current) e.current_hash = x.hash;
      revs.push_back(std::move(x));
    }
  } else {
    const std::string cr_path = kube::paths::controllerrevisions(ns);
    auto crs = co_await list_views<probes::ControllerRevisionView>(c, cr_path);
    if (!crs) co_return unexpected(crs.error());
    std::int64_t top = -1;
    for (const auto& cr : *crs) {
      if (cr.meta.controller_uid != uid) continue;
      auto r = guard::revision_of(cr, cr.hash, cr.revision);
      revs.push_back(ExplainRevision{r.number, r.hash, r.name, cr.meta.created, false, r.verdict, r.rollback,
                                     checks_text(cr.meta.annotations, r.hash, r.number)});
      top = std::max(top, r.number);
    }
    // The DaemonSet's current revision is the highest-numbered ControllerRevision (a status may lag; explain
    // reports history, not judgement).
    for (auto& r : revs)
      if (r.number == top) {
        r.current = true;
        e.current_hash = r.hash;
      }
  }
  std::sort(revs.begin(), revs.end(), [](const auto& a, const auto& b) { return a.number > b.number; });
  if (revs.size() > kMaxRevisions) revs.resize(kMaxRevisions);
  e.revisions = std::move(revs);

  const std::string sel = "?fieldSelector=involvedObject.name%3D" + name + "%2CinvolvedObject.kind%3D" + kind;
  const std::string events_path = kube::paths::events(ns) + sel;
  auto events = co_await c.get(events_path);
  if (events && events->contains("items") && (*events)["items"].is_array()) {
    for (const auto& ev : (*events)["items"]) {
      if (!ev.is_object()) continue;
      const auto src = ev.find("source");
      const std::string component = src != ev.end() && src->is_object() ? str(*src, "component") : std::string();
      if (component != event_component && str(ev, "reportingComponent") != event_component) continue;
      ExplainEvent x;
      x.type = str(ev, "type");
      x.reason = str(ev, "reason");
      x.message = str(ev, "message");
      x.count = ev.contains("count") && ev["count"].is_number_integer() ? ev["count"].get<int>() : 1;
      std::string ts = str(ev, "lastTimestamp");
      if (ts.empty()) ts = str(ev, "eventTime");
      if (ts.empty()) ts = str(ev, "firstTimestamp");
      if (auto t = parse_rfc3339(ts)) x.at = *t;
      e.events.push_back(std::move(x));
    }
    std::stable_sort(e.events.begin(), e.events.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  }
  co_return e;
}

void render_explain_text(const Explanation& e, std::ostream& out) {
  std::string lower = e.kind == "Deployment" ? "deployment" : "daemonset";
  out << lower << "/" << e.name << " in namespace " << e.ns;
  if (e.revisions.empty()) {
    out << ": no revisions found\n";
  } else {
    const auto cur = std::find_if(e.revisions.begin(), e.revisions.end(), [](const auto& r) { return r.current; });
    if (cur != e.revisions.end()) out << ": on revision " << cur->number << " (" << cur->hash << ")";
    out << (e.paused ? ", paused" : "") << "\n";
  }
  for (const auto& r : e.revisions) {
    out << "\nrevision " << r.number << " (" << r.hash << ", " << r.object << ")" << (r.current ? "  [current]" : "")
        << "\n";
    out << "  started   " << format_rfc3339(r.created) << "\n";
    if (r.verdict) {
      out << "  verdict   " << guard::to_string(r.verdict->verdict) << ": " << r.verdict->reason << " at "
          << format_rfc3339(r.verdict->at);
      if (r.verdict->verdict == guard::Verdict::failed && r.verdict->at >= r.created)
        out << " (detected " << seconds_text(r.verdict->at - r.created) << " after it started)";
      out << "\n";
    } else {
      out << "  verdict   none yet" << (r.current ? " (under bake or analysis)" : "") << "\n";
    }
    if (r.rollback) {
      const auto& rb = *r.rollback;
      out << "  rollback  to revision " << rb.to_revision << " (" << rb.to << "): " << guard::to_string(rb.state)
          << ", decided " << format_rfc3339(rb.at) << " because of " << rb.reason;
      if (rb.state == guard::RollbackState::succeeded)
        if (const ExplainEvent* ok = event_after(e.events, "RollbackSucceeded", rb.at))
          out << "; restored in about " << seconds_text(std::max(Duration{0}, std::chrono::duration_cast<Duration>(ok->at - rb.at)));
      out << "\n";
    }
    if (r.checks != "-") out << "  checks    " << r.checks << "   (P pass, F fail, ! passed once)\n";
    if (r.current && e.live) {
      for (const auto& ch : e.live->checks) {
        out << "  live      " << ch.name << ": " << (ch.last_outcome.empty() ? "not evaluated yet" : ch.last_outcome);
        if (ch.value) out << " value=" << *ch.value;
        else if (!ch.value_text.empty()) out << " value=" << ch.value_text;
        if (!ch.detail.empty()) out << " (" << ch.detail << ")";
        out << "\n";
      }
    }
  }
  out << "\nevents (canary-guard)\n";
  if (e.events.empty()) out << "  none\n";
  for (const auto& ev : e.events) {
    out << "  " << format_rfc3339(ev.at) << "  " << ev.type << "  " << ev.reason;
    if (ev.count > 1) out << " (x" << ev.count << ")";
    out << "\n    " << ev.message << "\n";
  }
}

void render_explain_json(const Explanation& e, std::ostream& out) {
  nlohmann::json j = {{"kind", e.kind}, {"namespace", e.ns}, {"name", e.name}, {"current_hash", e.current_hash},
                      {"paused", e.paused}};
  j["revisions"] = nlohmann::json::array();
  for (const auto& r : e.revisions) {
    nlohmann::json x = {{"number", r.number}, {"hash", r.hash}, {"object", r.object},
                        {"started", format_rfc3339(r.created)}, {"current", r.current}, {"checks", r.checks}};
    if (r.verdict) {
      x["verdict"] = {{"verdict", std::string(guard::to_string(r.verdict->verdict))}, {"reason", r.verdict->reason},
                      {"at", format_rfc3339(r.verdict->at)}};
      if (r.verdict->verdict == guard::Verdict::failed && r.verdict->at >= r.created)
        x["time_to_detect_seconds"] = std::chrono::duration<double>(r.verdict->at - r.created).count();
    }
    if (r.rollback) {
      const auto& rb = *r.rollback;
      x["rollback"] = {{"state", std::string(guard::to_string(rb.state))}, {"to_revision", rb.to_revision},
                       {"to_hash", rb.to}, {"decided", format_rfc3339(rb.at)}, {"reason", rb.reason}};
      if (rb.state == guard::RollbackState::succeeded)
        if (const ExplainEvent* ok = event_after(e.events, "RollbackSucceeded", rb.at))
          x["rollback"]["time_to_restore_seconds"] =
              std::max(0.0, std::chrono::duration<double>(ok->at - rb.at).count());
    }
    if (r.current && e.live) {
      x["live"] = nlohmann::json::array();
      for (const auto& ch : e.live->checks) {
        nlohmann::json c = {{"name", ch.name}, {"last_outcome", ch.last_outcome}, {"detail", ch.detail}};
        if (ch.value) c["value"] = *ch.value;
        x["live"].push_back(c);
      }
    }
    j["revisions"].push_back(x);
  }
  j["events"] = nlohmann::json::array();
  for (const auto& ev : e.events)
    j["events"].push_back({{"time", format_rfc3339(ev.at)}, {"type", ev.type}, {"reason", ev.reason},
                           {"message", ev.message}, {"count", ev.count}});
  out << j.dump(2) << "\n";
}

}  // namespace canary_guard::app
