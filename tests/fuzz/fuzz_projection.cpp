// Fuzz target: the object projections (daemon/kube/projection.*): one object's JSON text into each view, a LIST
// page, and the pod-template fingerprint. "Nothing here throws or crashes on input" is the header's promise; the
// target also checks that a fingerprint is always 16 lowercase hex digits and does not depend on the decoder's
// history (the parser's buffers are reused across documents, which is where stale state would show).
//
// Input layout: byte 0 picks what to decode (view x {object, list page}, or a template); the rest is the JSON text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/kube/projection.hpp"

namespace {

using namespace canary_guard;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_projection: invariant broken: %s\n", what);
  std::abort();
}

template <class View>
void object_and_list(kube::Decoder& d, std::string_view json, bool list) {
  if (list) {
    (void)d.decode_list<View>(json);
  } else {
    auto v = d.project<View>(json);
    // The same text decoded again by a fresh decoder must give the same answer (no state leaks between documents).
    kube::Decoder fresh;
    auto w = fresh.project<View>(json);
    if (v.has_value() != w.has_value()) fail("reused and fresh decoder disagree on success");
    if (v && (v->meta.name != w->meta.name || v->meta.resource_version != w->meta.resource_version ||
              v->meta.labels != w->meta.labels))
      fail("reused and fresh decoder disagree on the object");
  }
}

void check_fingerprint(const std::string& fp) {
  if (fp.size() != 16) fail("fingerprint is not 16 characters");
  for (char c : fp)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) fail("fingerprint is not lowercase hex");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0] % 12;
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  static kube::Decoder decoder;  // reused across inputs, as an informer reuses its parser
  switch (mode / 2) {
    case 0: object_and_list<probes::DeploymentView>(decoder, json, mode % 2); break;
    case 1: object_and_list<probes::ReplicaSetView>(decoder, json, mode % 2); break;
    case 2: object_and_list<probes::DaemonSetView>(decoder, json, mode % 2); break;
    case 3: object_and_list<probes::ControllerRevisionView>(decoder, json, mode % 2); break;
    case 4: object_and_list<probes::PodView>(decoder, json, mode % 2); break;
    default: {
      const bool strip_patch = mode % 2;
      auto a = decoder.template_fingerprint(json, strip_patch);
      auto b = kube::Decoder{}.template_fingerprint(json, strip_patch);
      if (a.has_value() != b.has_value()) fail("reused and fresh decoder disagree on a fingerprint");
      if (a) {
        check_fingerprint(*a);
        if (*a != *b) fail("reused and fresh decoder give different fingerprints");
      }
    }
  }
  return 0;
}
