#include "daemon/kube/projection.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <utility>

#include <simdjson.h>

#include "config/rfc3339.hpp"

namespace canary_guard::kube {

namespace dom = simdjson::dom;
using simdjson::dom::element_type;

namespace {

constexpr std::string_view kAnnotationPrefix = "canary-guard.io/";
constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";

using Obj = std::optional<dom::object>;
using Member = std::pair<std::string_view, dom::element>;

bool is_ours(std::string_view annotation) {
  return annotation == kRevisionAnnotation || annotation.substr(0, kAnnotationPrefix.size()) == kAnnotationPrefix;
}

// The member named key; of duplicates the last, as the nlohmann DOM this replaced kept it (simdjson keeps all).
std::optional<dom::element> find(dom::object o, std::string_view key) {
  std::optional<dom::element> found;
  for (dom::key_value_pair kv : o)
    if (kv.key == key) found = kv.value;
  return found;
}

// Sorts out[begin..] by key (bytewise, as std::map<std::string> ordered the nlohmann DOM this replaced) and keeps
// only the last of duplicate keys, as that DOM did.
void sort_members(std::vector<Member>& out, std::size_t begin) {
  auto first = out.begin() + static_cast<std::ptrdiff_t>(begin);
  std::stable_sort(first, out.end(), [](const Member& a, const Member& b) { return a.first < b.first; });
  auto w = first;
  for (auto it = first; it != out.end(); ++it) {
    if (it + 1 != out.end() && (it + 1)->first == it->first) continue;  // a later duplicate wins
    *w++ = *it;
  }
  out.erase(w, out.end());
}

// Appends o's members to out, sorted and de-duplicated (sort_members). Returns the index where they start.
std::size_t push_sorted(dom::object o, std::vector<Member>& out) {
  const std::size_t begin = out.size();
  for (dom::key_value_pair kv : o) out.emplace_back(kv.key, kv.value);
  sort_members(out, begin);
  return begin;
}

// Reads fields with type checks; remembers the first problem and keeps going so callers check once at the end.
class Reader {
 public:
  explicit Reader(std::vector<Member>& scratch) : scratch_(scratch) {}

  // nullopt when absent or null; an error when present with another type.
  Obj object(const Obj& parent, std::string_view key, std::string_view where) {
    auto v = value(parent, key);
    if (!v) return std::nullopt;
    dom::object o;
    if (v->get(o) != simdjson::SUCCESS) {
      fail(where, key, "an object");
      return std::nullopt;
    }
    return o;
  }
  std::optional<dom::array> array(const Obj& parent, std::string_view key, std::string_view where) {
    auto v = value(parent, key);
    if (!v) return std::nullopt;
    dom::array a;
    if (v->get(a) != simdjson::SUCCESS) {
      fail(where, key, "an array");
      return std::nullopt;
    }
    return a;
  }
  bool str(const Obj& parent, std::string_view key, std::string& out, std::string_view where) {
    auto v = value(parent, key);
    if (!v) return false;
    std::string_view s;
    if (v->get(s) != simdjson::SUCCESS) {
      fail(where, key, "a string");
      return false;
    }
    out.assign(s);
    return true;
  }
  template <class Int>
  bool integer(const Obj& parent, std::string_view key, Int& out, std::string_view where) {
    auto v = value(parent, key);
    if (!v) return false;
    switch (v->type()) {
      case element_type::INT64: {
        const std::int64_t i = v->get_int64().value_unsafe();
        if (i < std::numeric_limits<Int>::min() || i > std::numeric_limits<Int>::max()) {
          fail(where, key, "in range");
          return false;
        }
        out = static_cast<Int>(i);
        return true;
      }
      case element_type::UINT64: {  // only for values above INT64_MAX: never in range of Int
        const std::uint64_t u = v->get_uint64().value_unsafe();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
          fail(where, key, "in range");
          return false;
        }
        out = static_cast<Int>(u);
        return true;
      }
      default:
        fail(where, key, "an integer");
        return false;
    }
  }
  bool boolean(const Obj& parent, std::string_view key, bool& out, std::string_view where) {
    auto v = value(parent, key);
    if (!v) return false;
    if (v->get(out) != simdjson::SUCCESS) {
      fail(where, key, "a boolean");
      return false;
    }
    return true;
  }
  bool time(const Obj& parent, std::string_view key, TimePoint& out, std::string_view where) {
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
    error.reserve(where.size() + key.size() + expected.size() + 9);
    error.append(where).append(".").append(key).append(" is not ").append(expected);
  }

  std::vector<Member>& scratch() { return scratch_; }
  std::string error;

 private:
  // The member, or nullopt when absent or null.
  static std::optional<dom::element> value(const Obj& parent, std::string_view key) {
    if (!parent) return std::nullopt;
    auto v = find(*parent, key);
    if (!v || v->is_null()) return std::nullopt;
    return v;
  }

  std::vector<Member>& scratch_;
};

enum class LabelMode { all, hash_only };

void read_meta(Reader& r, dom::object obj, probes::ObjectMeta& m, LabelMode labels) {
  Obj md = r.object(obj, "metadata", "");
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
  if (auto owners = r.array(md, "ownerReferences", "metadata")) {
    for (dom::element e : *owners) {
      dom::object o;
      if (e.get(o) != simdjson::SUCCESS) {
        r.fail("metadata", "ownerReferences[]", "an object");
        break;
      }
      bool controller = false;
      r.boolean(o, "controller", controller, "metadata.ownerReferences[]");
      if (controller) r.str(o, "uid", m.controller_uid, "metadata.ownerReferences[]");
    }
  }
  auto& scratch = r.scratch();
  if (Obj l = r.object(md, "labels", "metadata")) {
    const std::size_t b = push_sorted(*l, scratch);
    for (std::size_t i = b; i < scratch.size(); ++i) {
      auto [k, v] = scratch[i];
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) {
        r.fail("metadata.labels", k, "a string");
        continue;
      }
      if (labels == LabelMode::hash_only && k != "pod-template-hash" && k != "controller-revision-hash") continue;
      m.labels.emplace_back(std::string(k), std::string(s));
    }
    scratch.resize(b);
  }
  if (Obj a = r.object(md, "annotations", "metadata")) {
    m.has_annotations = true;
    // Filter before sorting: objects carry many annotations (last-applied-configuration) and we keep a few.
    const std::size_t b = scratch.size();
    for (dom::key_value_pair kv : *a)
      if (is_ours(kv.key)) scratch.emplace_back(kv.key, kv.value);
    sort_members(scratch, b);
    for (std::size_t i = b; i < scratch.size(); ++i) {
      auto [k, v] = scratch[i];
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) {
        r.fail("metadata.annotations", k, "a string");
        continue;
      }
      m.annotations.emplace_back(std::string(k), std::string(s));
    }
    scratch.resize(b);
  }
}

void read_conditions(Reader& r, const Obj& status, std::vector<probes::Condition>& out, std::string_view where) {
  if (!status) return;
  auto conds = r.array(status, "conditions", where);
  if (!conds) return;
  for (dom::element e : *conds) {
    dom::object c;
    if (e.get(c) != simdjson::SUCCESS) {
      r.fail(where, "conditions[]", "an object");
      return;
    }
    probes::Condition pc;
    r.str(c, "type", pc.type, "conditions[]");
    r.str(c, "status", pc.status, "conditions[]");
    r.str(c, "reason", pc.reason, "conditions[]");
    r.time(c, "lastUpdateTime", pc.last_update, "conditions[]");
    r.time(c, "lastTransitionTime", pc.last_transition, "conditions[]");
    out.push_back(std::move(pc));
  }
}

// ---- canonical template encoding -------------------------------------------------------------------------------
// Not JSON: a length-prefixed encoding that is unambiguous and cheap. Values that are "empty" (null, [], {},
// or objects whose members are all empty) write nothing, so absent == null == [] == {}. Objects are written in
// bytewise key order with the last of duplicate keys. The bytes must not change: fingerprints are compared
// across daemon versions only through annotations that store verdicts per hash, and the unit test pins them.

class Canonical {
 public:
  Canonical(std::string& out, std::vector<Member>& scratch) : out_(out), scratch_(scratch) {}

  // Same as value() for the template object, minus metadata.labels.pod-template-hash and (strip_patch) the
  // top-level $patch; an empty template still writes "{}".
  void write_template(dom::object t, bool strip_patch) {
    out_.push_back('{');
    const std::size_t b = push_sorted(t, scratch_);
    for (std::size_t i = b; i < scratch_.size(); ++i) {
      auto [key, v] = scratch_[i];
      if (strip_patch && key == "$patch") continue;
      dom::object md;
      if (key == "metadata" && v.get(md) == simdjson::SUCCESS) {
        write_metadata(md);
        continue;
      }
      member(key, v);
    }
    scratch_.resize(b);
    out_.push_back('}');
  }

 private:
  void write_metadata(dom::object md) {
    const auto mark = out_.size();
    put_string("metadata");
    out_.push_back('{');
    bool any = false;
    const std::size_t b = push_sorted(md, scratch_);
    for (std::size_t i = b; i < scratch_.size(); ++i) {
      auto [key, v] = scratch_[i];
      dom::object labels;
      if (key == "labels" && v.get(labels) == simdjson::SUCCESS) {
        const auto lmark = out_.size();
        put_string("labels");
        out_.push_back('{');
        bool any_label = false;
        const std::size_t lb = push_sorted(labels, scratch_);
        for (std::size_t j = lb; j < scratch_.size(); ++j) {
          auto [lk, lv] = scratch_[j];
          if (lk != "pod-template-hash") any_label |= member(lk, lv);
        }
        scratch_.resize(lb);
        if (any_label) {
          out_.push_back('}');
          any = true;
        } else {
          out_.resize(lmark);
        }
      } else {
        any |= member(key, v);
      }
    }
    scratch_.resize(b);
    if (any) out_.push_back('}');
    else out_.resize(mark);
  }

  void put_string(std::string_view s) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
    (void)ec;
    out_.push_back('s');
    out_.append(buf, p);
    out_.push_back(':');
    out_.append(s);
  }

  template <class Int>
  void put_integer(Int v) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out_.push_back('i');
    out_.append(buf, p);
    out_.push_back(';');
  }

  bool member(std::string_view key, dom::element v) {
    const auto mark = out_.size();
    put_string(key);
    if (!value(v)) {
      out_.resize(mark);
      return false;
    }
    return true;
  }

  // Writes v; false (and nothing written) when v is empty.
  bool value(dom::element v) {
    switch (v.type()) {
      case element_type::NULL_VALUE:
        return false;
      case element_type::OBJECT: {
        dom::object o = v.get_object().value_unsafe();
        const auto mark = out_.size();
        out_.push_back('{');
        bool any = false;
        // Indices, not iterators: recursion appends to scratch_ and may reallocate it.
        const std::size_t b = push_sorted(o, scratch_);
        const std::size_t e = scratch_.size();
        for (std::size_t i = b; i < e; ++i) {
          auto [key, child] = scratch_[i];
          any |= member(key, child);
        }
        scratch_.resize(b);
        if (!any) {
          out_.resize(mark);
          return false;
        }
        out_.push_back('}');
        return true;
      }
      case element_type::ARRAY: {
        dom::array a = v.get_array().value_unsafe();
        if (a.begin() == a.end()) return false;
        out_.push_back('[');
        for (dom::element e : a)
          if (!value(e)) out_.push_back('n');  // keep positions: [null] != [null, null]
        out_.push_back(']');
        return true;
      }
      case element_type::STRING: {
        put_string(v.get_string().value_unsafe());
        return true;
      }
      case element_type::BOOL: {
        out_ += v.get_bool().value_unsafe() ? "T" : "F";
        return true;
      }
      case element_type::INT64: {
        put_integer(v.get_int64().value_unsafe());
        return true;
      }
      case element_type::UINT64: {
        put_integer(v.get_uint64().value_unsafe());
        return true;
      }
      case element_type::DOUBLE: {
        const double d = v.get_double().value_unsafe();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
          put_integer(static_cast<long long>(d));
        } else {
          char buf[32];
          std::snprintf(buf, sizeof buf, "f%.17g", d);
          out_ += buf;
          out_.push_back(';');
        }
        return true;
      }
    }
    return false;
  }

  std::string& out_;
  std::vector<Member>& scratch_;
};

std::string fnv64_hex(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 0xf];
  return out;
}

}  // namespace

struct Decoder::Impl {
  dom::parser parser;
  std::vector<Member> scratch;  // sorted object members, reused across documents
  std::string canonical;        // canonical template bytes, reused

  // Parses text; the element lives until the next parse.
  Expected<dom::element, std::string> parse(std::string_view text, const char* what) {
    dom::element root;
    // An empty view may have a null data(); simdjson would memcpy from it.
    if (text.empty() || parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS)
      return unexpected(std::string(what) + " is not valid JSON");
    return root;
  }

  std::string fingerprint(std::optional<dom::object> tmpl, bool strip_patch) {
    canonical.clear();
    if (tmpl) Canonical(canonical, scratch).write_template(*tmpl, strip_patch);
    else canonical = "{}";
    return fnv64_hex(canonical);
  }

  Obj template_of(Reader& r, const Obj& spec, std::string_view where) {
    if (!spec) return std::nullopt;
    return r.object(spec, "template", where);
  }

  Expected<probes::DeploymentView, std::string> deployment(dom::element e) {
    dom::object j;
    if (e.get(j) != simdjson::SUCCESS) return unexpected(std::string("Deployment is not an object"));
    Reader r(scratch);
    probes::DeploymentView d;
    read_meta(r, j, d.meta, LabelMode::all);
    Obj spec = r.object(j, "spec", "");
    d.replicas_set = r.integer(spec, "replicas", d.spec_replicas, "spec");
    if (!d.replicas_set) d.spec_replicas = 1;
    r.boolean(spec, "paused", d.paused, "spec");
    std::int32_t pds = 0;
    if (r.integer(spec, "progressDeadlineSeconds", pds, "spec")) d.progress_deadline_seconds = pds;
    r.integer(spec, "minReadySeconds", d.min_ready_seconds, "spec");
    r.integer(spec, "revisionHistoryLimit", d.revision_history_limit, "spec");
    if (spec) {
      if (Obj strategy = r.object(spec, "strategy", "spec")) r.str(strategy, "type", d.strategy, "spec.strategy");
    }
    if (d.strategy.empty()) d.strategy = "RollingUpdate";
    Obj status = r.object(j, "status", "");
    r.integer(status, "observedGeneration", d.observed_generation, "status");
    r.integer(status, "replicas", d.replicas, "status");
    r.integer(status, "updatedReplicas", d.updated_replicas, "status");
    r.integer(status, "readyReplicas", d.ready_replicas, "status");
    r.integer(status, "availableReplicas", d.available_replicas, "status");
    r.integer(status, "unavailableReplicas", d.unavailable_replicas, "status");
    read_conditions(r, status, d.conditions, "status");
    d.template_hash = fingerprint(template_of(r, spec, "spec"), false);
    if (!r.error.empty()) return unexpected("Deployment " + d.meta.ns + "/" + d.meta.name + ": " + r.error);
    return d;
  }

  Expected<probes::ReplicaSetView, std::string> replicaset(dom::element e) {
    dom::object j;
    if (e.get(j) != simdjson::SUCCESS) return unexpected(std::string("ReplicaSet is not an object"));
    Reader r(scratch);
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
    Obj spec = r.object(j, "spec", "");
    if (!r.integer(spec, "replicas", s.spec_replicas, "spec")) s.spec_replicas = 1;  // API default
    Obj status = r.object(j, "status", "");
    r.integer(status, "replicas", s.replicas, "status");
    r.integer(status, "readyReplicas", s.ready_replicas, "status");
    r.integer(status, "availableReplicas", s.available_replicas, "status");
    r.integer(status, "observedGeneration", s.observed_generation, "status");
    s.template_hash = fingerprint(template_of(r, spec, "spec"), false);
    if (!r.error.empty()) return unexpected("ReplicaSet " + s.meta.ns + "/" + s.meta.name + ": " + r.error);
    return s;
  }

  Expected<probes::DaemonSetView, std::string> daemonset(dom::element e) {
    dom::object j;
    if (e.get(j) != simdjson::SUCCESS) return unexpected(std::string("DaemonSet is not an object"));
    Reader r(scratch);
    probes::DaemonSetView d;
    read_meta(r, j, d.meta, LabelMode::all);
    Obj spec = r.object(j, "spec", "");
    if (spec) {
      if (Obj us = r.object(spec, "updateStrategy", "spec")) r.str(us, "type", d.update_strategy, "spec.updateStrategy");
    }
    if (d.update_strategy.empty()) d.update_strategy = "RollingUpdate";
    r.integer(spec, "minReadySeconds", d.min_ready_seconds, "spec");
    r.integer(spec, "revisionHistoryLimit", d.revision_history_limit, "spec");
    Obj status = r.object(j, "status", "");
    r.integer(status, "observedGeneration", d.observed_generation, "status");
    r.integer(status, "desiredNumberScheduled", d.desired_number_scheduled, "status");
    r.integer(status, "currentNumberScheduled", d.current_number_scheduled, "status");
    r.integer(status, "updatedNumberScheduled", d.updated_number_scheduled, "status");
    r.integer(status, "numberReady", d.number_ready, "status");
    r.integer(status, "numberAvailable", d.number_available, "status");
    r.integer(status, "numberUnavailable", d.number_unavailable, "status");
    d.template_hash = fingerprint(template_of(r, spec, "spec"), false);
    if (!r.error.empty()) return unexpected("DaemonSet " + d.meta.ns + "/" + d.meta.name + ": " + r.error);
    return d;
  }

  Expected<probes::ControllerRevisionView, std::string> controller_revision(dom::element e) {
    dom::object j;
    if (e.get(j) != simdjson::SUCCESS) return unexpected(std::string("ControllerRevision is not an object"));
    Reader r(scratch);
    probes::ControllerRevisionView c;
    read_meta(r, j, c.meta, LabelMode::all);
    r.integer(Obj(j), "revision", c.revision, "");
    if (auto* h = probes::find_value(c.meta.labels, "controller-revision-hash")) c.hash = *h;
    else c.hash = c.meta.name;  // the DS controller labels unlabelled CRs with their own name (§5.2)
    Obj tmpl;
    if (Obj data = r.object(j, "data", ""))
      if (Obj spec = r.object(data, "spec", "data")) tmpl = r.object(spec, "template", "data.spec");
    c.template_hash = fingerprint(tmpl, /*strip_patch=*/true);
    if (!r.error.empty()) return unexpected("ControllerRevision " + c.meta.ns + "/" + c.meta.name + ": " + r.error);
    return c;
  }

  Expected<probes::PodView, std::string> pod(dom::element e) {
    dom::object j;
    if (e.get(j) != simdjson::SUCCESS) return unexpected(std::string("Pod is not an object"));
    Reader r(scratch);
    probes::PodView p;
    read_meta(r, j, p.meta, LabelMode::hash_only);
    if (auto* h = probes::find_value(p.meta.labels, "pod-template-hash")) p.pod_template_hash = *h;
    if (auto* h = probes::find_value(p.meta.labels, "controller-revision-hash")) p.controller_revision_hash = *h;
    Obj spec = r.object(j, "spec", "");
    r.str(spec, "nodeName", p.node_name, "spec");
    Obj status = r.object(j, "status", "");
    r.str(status, "phase", p.phase, "status");
    read_conditions(r, status, p.conditions, "status");
    auto read_containers = [&](const char* key, bool init) {
      if (!status) return;
      auto list = r.array(status, key, "status");
      if (!list) return;
      for (dom::element ce : *list) {
        dom::object cs;
        if (ce.get(cs) != simdjson::SUCCESS) {
          r.fail("status", key, "a list of objects");
          return;
        }
        probes::ContainerStateView c;
        c.init = init;
        r.integer(cs, "restartCount", c.restart_count, key);
        r.boolean(cs, "ready", c.ready, key);
        if (Obj state = r.object(cs, "state", key)) {
          if (Obj w = r.object(state, "waiting", "state")) r.str(w, "reason", c.waiting_reason, "state.waiting");
          if (Obj t = r.object(state, "terminated", "state")) r.str(t, "reason", c.terminated_reason, "state.terminated");
          c.running = r.object(state, "running", "state").has_value();
        }
        if (Obj last = r.object(cs, "lastState", key)) {
          if (Obj t = r.object(last, "terminated", "lastState")) {
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

  template <class View>
  Expected<View, std::string> project(dom::element e) {
    if constexpr (std::is_same_v<View, probes::DeploymentView>) return deployment(e);
    else if constexpr (std::is_same_v<View, probes::ReplicaSetView>) return replicaset(e);
    else if constexpr (std::is_same_v<View, probes::DaemonSetView>) return daemonset(e);
    else if constexpr (std::is_same_v<View, probes::ControllerRevisionView>) return controller_revision(e);
    else return pod(e);
  }
};

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

std::size_t Decoder::capacity() const noexcept { return impl_->parser.capacity(); }

template <class View>
Expected<WatchEvent<View>, std::string> Decoder::decode_event(std::string_view line) {
  dom::element root;
  dom::object j;
  if (line.empty() || impl_->parser.parse(line.data(), line.size()).get(root) != simdjson::SUCCESS ||
      root.get(j) != simdjson::SUCCESS)
    return unexpected(std::string("watch line is not a JSON object"));
  auto t = find(j, "type");
  auto o = find(j, "object");
  std::string_view type;
  dom::object obj;
  if (!t || t->get(type) != simdjson::SUCCESS || !o || o->get(obj) != simdjson::SUCCESS)
    return unexpected(std::string("watch event without type or object"));
  WatchEvent<View> ev;
  if (type == "ERROR") {
    ev.type = EventType::error;
    ev.error = error_from_status_json(simdjson::minify(*o));
    return ev;
  }
  if (type == "BOOKMARK") {
    ev.type = EventType::bookmark;
    std::string_view rv;
    if (auto m = find(obj, "metadata"); m && m->is_object())
      if (auto r = find(m->get_object().value_unsafe(), "resourceVersion"); r && r->get(rv) == simdjson::SUCCESS)
        ev.resource_version.assign(rv);
    if (ev.resource_version.empty()) return unexpected(std::string("BOOKMARK without resourceVersion"));
    return ev;
  }
  if (type == "ADDED") ev.type = EventType::added;
  else if (type == "MODIFIED") ev.type = EventType::modified;
  else if (type == "DELETED") ev.type = EventType::deleted;
  else return unexpected("unknown watch event type " + std::string(type));
  auto v = impl_->project<View>(*o);
  if (!v) return unexpected(std::move(v.error()));
  ev.object = std::move(*v);
  ev.resource_version = ev.object.meta.resource_version;
  return ev;
}

template <class View>
Expected<View, std::string> Decoder::project(std::string_view object_json) {
  auto root = impl_->parse(object_json, Projector<View>::kind.data());
  if (!root) return unexpected(std::move(root.error()));
  return impl_->project<View>(*root);
}

template <class View>
Expected<ListPage<View>, std::string> Decoder::decode_list(std::string_view body) {
  auto root = impl_->parse(body, "list response");
  if (!root) return unexpected(std::move(root.error()));
  dom::object j;
  if (root->get(j) != simdjson::SUCCESS) return unexpected(std::string("list response is not an object"));
  ListPage<View> page;
  if (auto m = find(j, "metadata"); m && m->is_object()) {
    dom::object md = m->get_object().value_unsafe();
    std::string_view s;
    if (auto rv = find(md, "resourceVersion"); rv && rv->get(s) == simdjson::SUCCESS) page.resource_version = std::string(s);
    if (auto c = find(md, "continue"); c && c->get(s) == simdjson::SUCCESS) page.continue_token.assign(s);
  }
  dom::array items;
  if (auto it = find(j, "items"); it && it->get(items) == simdjson::SUCCESS) {
    for (dom::element item : items) {
      auto v = impl_->project<View>(item);
      if (v) page.items.push_back(std::move(*v));
      else page.errors.push_back(std::move(v.error()));
    }
  }
  return page;
}

Expected<std::string, std::string> Decoder::template_fingerprint(std::string_view template_json, bool strip_patch) {
  auto root = impl_->parse(template_json, "template");
  if (!root) return unexpected(std::move(root.error()));
  Obj t;
  if (dom::object o; root->get(o) == simdjson::SUCCESS) t = o;
  return impl_->fingerprint(t, strip_patch);
}

namespace {
Decoder& local_decoder() {
  thread_local Decoder d;
  return d;
}
}  // namespace

template <class View>
Expected<WatchEvent<View>, std::string> decode_event(std::string_view line) {
  return local_decoder().decode_event<View>(line);
}

Expected<probes::DeploymentView, std::string> project_deployment(std::string_view object_json) {
  return local_decoder().project<probes::DeploymentView>(object_json);
}
Expected<probes::ReplicaSetView, std::string> project_replicaset(std::string_view object_json) {
  return local_decoder().project<probes::ReplicaSetView>(object_json);
}
Expected<probes::DaemonSetView, std::string> project_daemonset(std::string_view object_json) {
  return local_decoder().project<probes::DaemonSetView>(object_json);
}
Expected<probes::ControllerRevisionView, std::string> project_controller_revision(std::string_view object_json) {
  return local_decoder().project<probes::ControllerRevisionView>(object_json);
}
Expected<probes::PodView, std::string> project_pod(std::string_view object_json) {
  return local_decoder().project<probes::PodView>(object_json);
}

Expected<std::string, std::string> template_fingerprint(std::string_view template_json, bool strip_patch) {
  return local_decoder().template_fingerprint(template_json, strip_patch);
}

std::string empty_template_fingerprint() { return fnv64_hex("{}"); }

#define CG_INSTANTIATE_VIEW(View)                                                                       \
  template Expected<WatchEvent<View>, std::string> Decoder::decode_event<View>(std::string_view);       \
  template Expected<View, std::string> Decoder::project<View>(std::string_view);                        \
  template Expected<ListPage<View>, std::string> Decoder::decode_list<View>(std::string_view);          \
  template Expected<WatchEvent<View>, std::string> decode_event<View>(std::string_view);
CG_INSTANTIATE_VIEW(probes::DeploymentView)
CG_INSTANTIATE_VIEW(probes::ReplicaSetView)
CG_INSTANTIATE_VIEW(probes::DaemonSetView)
CG_INSTANTIATE_VIEW(probes::ControllerRevisionView)
CG_INSTANTIATE_VIEW(probes::PodView)
#undef CG_INSTANTIATE_VIEW

}  // namespace canary_guard::kube
