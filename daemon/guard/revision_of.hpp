#pragma once
// Revisions as the guard reads them from the API's objects, shared by observe (the guard's snapshot) and
// `canary-guard status` (which must show exactly what the guard would judge).
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "daemon/guard/decide.hpp"
#include "daemon/guard/records.hpp"
#include "probes/objects.hpp"

namespace canary_guard::guard {

// A Deployment's deployment.kubernetes.io/revision: 0 when absent (not rolled out yet), nullopt when unparsable.
inline std::optional<std::int64_t> deployment_revision(const probes::KeyValues& annotations) {
  const std::string* v = probes::find_value(annotations, "deployment.kubernetes.io/revision");
  if (!v) return 0;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size()) return std::nullopt;
  return n;
}

// One revision object (a ReplicaSetView or ControllerRevisionView): its name, hash, number, template fingerprint
// and the guard's records on it (records of another hash are ignored: copies, records.hpp).
template <class View>
Revision revision_of(const View& v, std::string hash, std::int64_t number) {
  Revision r;
  r.name = v.meta.name;
  r.hash = std::move(hash);
  r.number = number;
  r.template_fingerprint = v.template_hash;
  r.has_annotations = v.meta.has_annotations;
  if (const std::string* t = probes::find_value(v.meta.annotations, kVerdictAnnotation)) {
    r.verdict = parse_verdict(*t, r.hash);
    r.verdict_text = *t;
  }
  if (const std::string* t = probes::find_value(v.meta.annotations, kRollbackAnnotation)) {
    r.rollback = parse_rollback(*t, r.hash);
    r.rollback_text = *t;
  }
  return r;
}

}  // namespace canary_guard::guard
