#include "daemon/kube/projection.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "daemon/kube/auth.hpp"  // parse_rfc3339

namespace canary_guard::kube {

using json = nlohmann::json;

namespace {

constexpr std::string_view kAnnotationPrefix = "canary-guard.io/";
constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";

// Reads fields with type checks; remembers the first problem and keeps going so callers check once at the end.
class Reader {
 public:
  // nullptr when absent or null; an error when present with another type.
  const json* object(const json& parent, std::string_view key, std::string_view where) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return nullptr;
    if (!it->is_object()) {
      fail(where, key, "an object");
      return nullptr;
    }
    return &*it;
  }
  const json* array(const json& parent, std::string_view key, std::string_view where) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return nullptr;
    if (!it->is_array()) {
      fail(where, key, "an array");
      return nullptr;
    }
    return &*it;
  }
  bool str(const json* parent, std::string_view key, std::string& out, std::string_view where) {
    if (!parent) return false;
    auto it = parent->find(key);
    if (it == parent->end() || it->is_null()) return false;
    if (!it->is_string()) {
      fail(where, key, "a string");
      return false;
    }
    out = it->get_ref<const std::string&>();
    return true;
  }
  template <class Int>
  bool integer(const json* parent, std::string_view key, Int& out, std::string_view where) {
    if (!parent) return false;
    auto it = parent->find(key);
    if (it == parent->end() || it->is_null()) return false;
    if (it->is_number_integer()) {
      auto v = it->get<std::int64_t>();
      if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
        fail(where, key, "in range");
        return false;
      }
      if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
        fail(where, key, "in range");
        return false;
      }
      out = static_cast<Int>(v);
      return true;
    }
    fail(where, key, "an integer");
    return false;
  }
  bool boolean(const json* parent, std::string_view key, bool& out, std::string_view where) {
    if (!parent) return false;
    auto it = parent->find(key);
    if (it == parent->end() || it->is_null()) return false;
    if (!it->is_boolean()) {
      fail(where, key, "a boolean");
      return false;
    }
    out = it->get<bool>();
    return true;
  }
  bool time(const json* parent, std::string_view key, TimePoint& out, std::string_view where) {
    std::string s;
    if (!str(parent, key, s, where)) return false;
    auto t = parse_rfc3339(s);
    if (!t) {
      fail(where, key, "an RFC 3339 time");
      return false;
    }
    out = *t;
    return true;
  }
  void fail(std::string_view where, std::string_view key, std::string_view expected) {
    if (!error.empty()) return;
    error = std::string(where) + "." + std::string(key) + " is not " + std::string(expected);
  }

  std::string error;
};

enum class LabelMode { all, hash_only };

void read_meta(Reader& r, const json& obj, probes::ObjectMeta& m, LabelMode labels) {
  const json* md = r.object(obj, "metadata", "");
  if (!md) {
    r.fail("", "metadata", "present");
    return;
  }
  r.str(md, "namespace", m.ns, "metadata");
  r.str(md, "name", m.name, "metadata");
  r.str(md, "uid", m.uid, "metadata");
  r.str(md, "resourceVersion", m.resource_version, "metadata");
  r.integer(md, "generation", m.generation, "metadata");
  r.time(md, "creationTimestamp", m.created, "metadata");
  TimePoint deleted{};
  if (r.time(md, "deletionTimestamp", deleted, "metadata")) m.deleted = deleted;
  if (m.name.empty()) r.fail("metadata", "name", "present");
  if (const json* owners = r.array(*md, "ownerReferences", "metadata")) {
    for (const auto& o : *owners) {
      if (!o.is_object()) {
        r.fail("metadata", "ownerReferences[]", "an object");
        break;
      }
      bool controller = false;
      r.boolean(&o, "controller", controller, "metadata.ownerReferences[]");
      if (controller) r.str(&o, "uid", m.controller_uid, "metadata.ownerReferences[]");
    }
  }
  if (const json* l = r.object(*md, "labels", "metadata")) {
    for (auto it = l->begin(); it != l->end(); ++it) {
      if (!it.value().is_string()) {
        r.fail("metadata.labels", it.key(), "a string");
        continue;
      }
      if (labels == LabelMode::hash_only && it.key() != "pod-template-hash" && it.key() != "controller-revision-hash")
        continue;
      m.labels.emplace_back(it.key(), it.value().get<std::string>());
    }
  }
  if (const json* a = r.object(*md, "annotations", "metadata")) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      const auto& k = it.key();
      if (k != kRevisionAnnotation && k.compare(0, kAnnotationPrefix.size(), kAnnotationPrefix) != 0) continue;
      if (!it.value().is_string()) {
        r.fail("metadata.annotations", k, "a string");
        continue;
      }
      m.annotations.emplace_back(k, it.value().get<std::string>());
    }
  }
}

void read_conditions(Reader& r, const json* status, std::vector<probes::Condition>& out, std::string_view where) {
  if (!status) return;
  const json* conds = r.array(*status, "conditions", where);
  if (!conds) return;
  out.reserve(conds->size());
  for (const auto& c : *conds) {
    if (!c.is_object()) {
      r.fail(where, "conditions[]", "an object");
      return;
    }
    probes::Condition pc;
    r.str(&c, "type", pc.type, "conditions[]");
    r.str(&c, "status", pc.status, "conditions[]");
    r.str(&c, "reason", pc.reason, "conditions[]");
    r.time(&c, "lastUpdateTime", pc.last_update, "conditions[]");
    r.time(&c, "lastTransitionTime", pc.last_transition, "conditions[]");
    out.push_back(std::move(pc));
  }
}

// ---- canonical template encoding -------------------------------------------------------------------------------
// Not JSON: a length-prefixed encoding that is unambiguous and cheap. Values that are "empty" (null, [], {},
// or objects whose members are all empty) write nothing, so absent == null == [] == {}.

void put_string(std::string& out, std::string_view s) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
  (void)ec;
  out.push_back('s');
  out.append(buf, p);
  out.push_back(':');
  out.append(s);
}

bool write_canonical(const json& v, std::string& out);

bool write_member(std::string& out, const std::string& key, const json& value) {
  const auto mark = out.size();
  put_string(out, key);
  if (!write_canonical(value, out)) {
    out.resize(mark);
    return false;
  }
  return true;
}

bool write_canonical(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return false;
    case json::value_t::object: {
      const auto mark = out.size();
      out.push_back('{');
      bool any = false;
      for (auto it = v.begin(); it != v.end(); ++it)  // std::map: keys already sorted
        any |= write_member(out, it.key(), it.value());
      if (!any) {
        out.resize(mark);
        return false;
      }
      out.push_back('}');
      return true;
    }
    case json::value_t::array: {
      if (v.empty()) return false;
      out.push_back('[');
      for (const auto& e : v) {
        if (!write_canonical(e, out)) out.push_back('n');  // keep positions: [null] != [null, null]
      }
      out.push_back(']');
      return true;
    }
    case json::value_t::string:
      put_string(out, v.get_ref<const std::string&>());
      return true;
    case json::value_t::boolean:
      out += v.get<bool>() ? "T" : "F";
      return true;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      out.push_back('i');
      out += v.dump();
      out.push_back(';');
      return true;
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
        out.push_back('i');
        out += std::to_string(static_cast<long long>(d));
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "f%.17g", d);
        out += buf;
      }
      out.push_back(';');
      return true;
    }
    case json::value_t::binary:
      return false;
  }
  return false;
}

// Same as write_canonical for the template object, minus metadata.labels.pod-template-hash and top-level $patch.
void write_template(const json& t, std::string& out, bool strip_patch) {
  out.push_back('{');
  for (auto it = t.begin(); it != t.end(); ++it) {
    if (strip_patch && it.key() == "$patch") continue;
    if (it.key() == "metadata" && it.value().is_object()) {
      const auto mark = out.size();
      put_string(out, "metadata");
      out.push_back('{');
      bool any = false;
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (m.key() == "labels" && m.value().is_object()) {
          const auto lmark = out.size();
          put_string(out, "labels");
          out.push_back('{');
          bool any_label = false;
          for (auto l = m.value().begin(); l != m.value().end(); ++l)
            if (l.key() != "pod-template-hash") any_label |= write_member(out, l.key(), l.value());
          if (any_label) {
            out.push_back('}');
            any = true;
          } else {
            out.resize(lmark);
          }
        } else {
          any |= write_member(out, m.key(), m.value());
        }
      }
      if (any) out.push_back('}');
      else out.resize(mark);
      continue;
    }
    write_member(out, it.key(), it.value());
  }
  out.push_back('}');
}

std::string fnv64_hex(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 16);
}

const json* template_of(Reader& r, const json* spec, std::string_view where) {
  if (!spec) return nullptr;
  return r.object(*spec, "template", where);
}

}  // namespace

std::string template_fingerprint(const json* tmpl, bool strip_patch) {
  thread_local std::string buf;
  buf.clear();
  if (tmpl && tmpl->is_object()) write_template(*tmpl, buf, strip_patch);
  else buf = "{}";
  return fnv64_hex(buf);
}

namespace {

// SAX handler that builds the DOM but never materialises what no projection reads: metadata.managedFields
// (often the biggest part of an object), annotations other than ours (last-applied-configuration is a full copy
// of the object) and, for Pods, everything in spec but nodeName. Measured with tests/bench/bench_watch_decode.
class SkippingSax final : public nlohmann::json_sax<json> {
 public:
  explicit SkippingSax(bool pod) : pod_(pod) {}
  json root;

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override {
    if (skipping()) return true;
    return value(std::move(v));
  }
  bool binary(binary_t&) override { return skipping() ? true : value(nullptr); }
  bool start_object(std::size_t) override { return open(json::value_t::object); }
  bool start_array(std::size_t) override { return open(json::value_t::array); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (skip_depth_ > 0) return true;
    skip_next_ = drop(k);
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool skipping() {
    if (skip_depth_ > 0) return true;
    if (skip_next_) {
      skip_next_ = false;
      return true;
    }
    return false;
  }
  // Whether the value under key k of the object at path_ is dropped. path_[0] is the event's member name.
  bool drop(const std::string& k) const {
    if (path_.size() == 2 && path_[0] == "object" && path_[1] == "metadata") return k == "managedFields";
    if (path_.size() == 3 && path_[0] == "object" && path_[1] == "metadata" && path_[2] == "annotations")
      return k != kRevisionAnnotation && k.compare(0, kAnnotationPrefix.size(), kAnnotationPrefix) != 0;
    if (pod_ && path_.size() == 2 && path_[0] == "object" && path_[1] == "spec") return k != "nodeName";
    return false;
  }
  template <class V>
  bool value(V&& v) {
    if (skipping()) return true;
    insert(json(std::forward<V>(v)));
    return true;
  }
  json* insert(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }
  bool open(json::value_t t) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    if (skip_next_) {
      skip_next_ = false;
      skip_depth_ = 1;
      return true;
    }
    bool in_array = !stack_.empty() && stack_.back()->is_array();
    std::string name = stack_.empty() ? std::string() : (in_array ? std::string("[]") : key_);
    json* j = insert(json(t));
    if (!stack_.empty()) path_.push_back(std::move(name));
    stack_.push_back(j);
    return true;
  }
  bool close() {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    if (stack_.empty()) return false;
    stack_.pop_back();
    if (!path_.empty() && !stack_.empty()) path_.pop_back();
    return true;
  }

  bool pod_;
  std::vector<json*> stack_;
  std::vector<std::string> path_;
  std::string key_;
  bool skip_next_ = false;
  int skip_depth_ = 0;
};

}  // namespace

Expected<json, std::string> parse_event_json(std::string_view line, bool pod) {
  SkippingSax sax(pod);
  bool ok = json::sax_parse(line.begin(), line.end(), &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
  if (!ok || !sax.root.is_object()) return unexpected(std::string("watch line is not a JSON object"));
  return std::move(sax.root);
}

Expected<probes::DeploymentView, std::string> project_deployment(const json& j) {
  if (!j.is_object()) return unexpected(std::string("Deployment is not an object"));
  Reader r;
  probes::DeploymentView d;
  read_meta(r, j, d.meta, LabelMode::all);
  const json* spec = r.object(j, "spec", "");
  d.replicas_set = r.integer(spec, "replicas", d.spec_replicas, "spec");
  if (!d.replicas_set) d.spec_replicas = 1;
  r.boolean(spec, "paused", d.paused, "spec");
  std::int32_t pds = 0;
  if (r.integer(spec, "progressDeadlineSeconds", pds, "spec")) d.progress_deadline_seconds = pds;
  r.integer(spec, "minReadySeconds", d.min_ready_seconds, "spec");
  if (spec) {
    if (const json* strategy = r.object(*spec, "strategy", "spec")) r.str(strategy, "type", d.strategy, "spec.strategy");
  }
  if (d.strategy.empty()) d.strategy = "RollingUpdate";
  const json* status = r.object(j, "status", "");
  r.integer(status, "observedGeneration", d.observed_generation, "status");
  r.integer(status, "replicas", d.replicas, "status");
  r.integer(status, "updatedReplicas", d.updated_replicas, "status");
  r.integer(status, "readyReplicas", d.ready_replicas, "status");
  r.integer(status, "availableReplicas", d.available_replicas, "status");
  r.integer(status, "unavailableReplicas", d.unavailable_replicas, "status");
  read_conditions(r, status, d.conditions, "status");
  d.template_hash = template_fingerprint(template_of(r, spec, "spec"));
  if (!r.error.empty()) return unexpected("Deployment " + d.meta.ns + "/" + d.meta.name + ": " + r.error);
  return d;
}

Expected<probes::ReplicaSetView, std::string> project_replicaset(const json& j) {
  if (!j.is_object()) return unexpected(std::string("ReplicaSet is not an object"));
  Reader r;
  probes::ReplicaSetView s;
  read_meta(r, j, s.meta, LabelMode::all);
  if (auto* rev = probes::find_value(s.meta.annotations, kRevisionAnnotation)) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(rev->data(), rev->data() + rev->size(), v);
    s.revision = (ec == std::errc{} && p == rev->data() + rev->size() && v >= 0) ? v : -1;
  } else {
    s.revision = 0;
  }
  if (auto* h = probes::find_value(s.meta.labels, "pod-template-hash")) s.pod_template_hash = *h;
  const json* spec = r.object(j, "spec", "");
  if (!r.integer(spec, "replicas", s.spec_replicas, "spec")) s.spec_replicas = 1;  // API default
  const json* status = r.object(j, "status", "");
  r.integer(status, "replicas", s.replicas, "status");
  r.integer(status, "readyReplicas", s.ready_replicas, "status");
  r.integer(status, "availableReplicas", s.available_replicas, "status");
  r.integer(status, "observedGeneration", s.observed_generation, "status");
  s.template_hash = template_fingerprint(template_of(r, spec, "spec"));
  if (!r.error.empty()) return unexpected("ReplicaSet " + s.meta.ns + "/" + s.meta.name + ": " + r.error);
  return s;
}

Expected<probes::DaemonSetView, std::string> project_daemonset(const json& j) {
  if (!j.is_object()) return unexpected(std::string("DaemonSet is not an object"));
  Reader r;
  probes::DaemonSetView d;
  read_meta(r, j, d.meta, LabelMode::all);
  const json* spec = r.object(j, "spec", "");
  if (spec) {
    if (const json* us = r.object(*spec, "updateStrategy", "spec")) r.str(us, "type", d.update_strategy, "spec.updateStrategy");
  }
  if (d.update_strategy.empty()) d.update_strategy = "RollingUpdate";
  r.integer(spec, "minReadySeconds", d.min_ready_seconds, "spec");
  const json* status = r.object(j, "status", "");
  r.integer(status, "observedGeneration", d.observed_generation, "status");
  r.integer(status, "desiredNumberScheduled", d.desired_number_scheduled, "status");
  r.integer(status, "currentNumberScheduled", d.current_number_scheduled, "status");
  r.integer(status, "updatedNumberScheduled", d.updated_number_scheduled, "status");
  r.integer(status, "numberReady", d.number_ready, "status");
  r.integer(status, "numberAvailable", d.number_available, "status");
  r.integer(status, "numberUnavailable", d.number_unavailable, "status");
  d.template_hash = template_fingerprint(template_of(r, spec, "spec"));
  if (!r.error.empty()) return unexpected("DaemonSet " + d.meta.ns + "/" + d.meta.name + ": " + r.error);
  return d;
}

Expected<probes::ControllerRevisionView, std::string> project_controller_revision(const json& j) {
  if (!j.is_object()) return unexpected(std::string("ControllerRevision is not an object"));
  Reader r;
  probes::ControllerRevisionView c;
  read_meta(r, j, c.meta, LabelMode::all);
  r.integer(&j, "revision", c.revision, "");
  if (auto* h = probes::find_value(c.meta.labels, "controller-revision-hash")) c.hash = *h;
  else c.hash = c.meta.name;  // the DS controller labels unlabelled CRs with their own name (§5.2)
  const json* tmpl = nullptr;
  if (const json* data = r.object(j, "data", ""))
    if (const json* spec = r.object(*data, "spec", "data")) tmpl = r.object(*spec, "template", "data.spec");
  c.template_hash = template_fingerprint(tmpl, /*strip_patch=*/true);
  if (!r.error.empty()) return unexpected("ControllerRevision " + c.meta.ns + "/" + c.meta.name + ": " + r.error);
  return c;
}

Expected<probes::PodView, std::string> project_pod(const json& j) {
  if (!j.is_object()) return unexpected(std::string("Pod is not an object"));
  Reader r;
  probes::PodView p;
  read_meta(r, j, p.meta, LabelMode::hash_only);
  if (auto* h = probes::find_value(p.meta.labels, "pod-template-hash")) p.pod_template_hash = *h;
  if (auto* h = probes::find_value(p.meta.labels, "controller-revision-hash")) p.controller_revision_hash = *h;
  const json* spec = r.object(j, "spec", "");
  r.str(spec, "nodeName", p.node_name, "spec");
  const json* status = r.object(j, "status", "");
  r.str(status, "phase", p.phase, "status");
  read_conditions(r, status, p.conditions, "status");
  auto read_containers = [&](const char* key, bool init) {
    if (!status) return;
    const json* list = r.array(*status, key, "status");
    if (!list) return;
    for (const auto& cs : *list) {
      if (!cs.is_object()) {
        r.fail("status", key, "a list of objects");
        return;
      }
      probes::ContainerStateView c;
      c.init = init;
      r.integer(&cs, "restartCount", c.restart_count, key);
      r.boolean(&cs, "ready", c.ready, key);
      if (const json* state = r.object(cs, "state", key)) {
        if (const json* w = r.object(*state, "waiting", "state")) r.str(w, "reason", c.waiting_reason, "state.waiting");
        if (const json* t = r.object(*state, "terminated", "state"))
          r.str(t, "reason", c.terminated_reason, "state.terminated");
        c.running = r.object(*state, "running", "state") != nullptr;
      }
      if (const json* last = r.object(cs, "lastState", key)) {
        if (const json* t = r.object(*last, "terminated", "lastState")) {
          r.str(t, "reason", c.last_terminated_reason, "lastState.terminated");
          r.integer(t, "exitCode", c.last_exit_code, "lastState.terminated");
        }
      }
      p.containers.push_back(std::move(c));
    }
  };
  read_containers("initContainerStatuses", true);
  read_containers("containerStatuses", false);
  if (!r.error.empty()) return unexpected("Pod " + p.meta.ns + "/" + p.meta.name + ": " + r.error);
  return p;
}

}  // namespace canary_guard::kube
