// Fuzz target: a watch response body as it arrives from the API server, cut into HTTP chunks at arbitrary places,
// through LineFramer (daemon/kube/line_framer.hpp) and Decoder::decode_event (daemon/kube/projection.*), as
// Informer's watch loop does. Besides "no crash, no sanitizer report", the framer is checked against a plain
// reference split: the same lines in the same order, whatever the chunking, and `too_long` exactly when a line is
// over the bound.
//
// Input layout: byte 0 picks the resource kind, byte 1 the max line length (small, so the bound is exercised),
// bytes 2..9 seed the chunk cuts; the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/kube/line_framer.hpp"
#include "daemon/kube/projection.hpp"

namespace {

using namespace canary_guard;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_watch_stream: invariant broken: %s\n", what);
  std::abort();
}

// The lines a correct framer yields for the whole stream: split at '\n', drop one trailing '\r', skip empty lines;
// the unfinished tail is pending. `too_long` once any line (before the '\r' is dropped) or the tail exceeds max.
struct Reference {
  std::vector<std::string> lines;
  bool too_long = false;
};
Reference reference_split(std::string_view s, std::size_t max) {
  Reference r;
  while (!s.empty()) {
    auto nl = s.find('\n');
    if (nl == std::string_view::npos) {
      if (s.size() > max) r.too_long = true;
      break;
    }
    auto line = s.substr(0, nl);
    s.remove_prefix(nl + 1);
    if (line.size() > max) {
      r.too_long = true;
      break;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) r.lines.emplace_back(line);
  }
  return r;
}

template <class View>
void decode_all(kube::Decoder& d, const std::vector<std::string>& lines) {
  for (const auto& l : lines) (void)d.decode_event<View>(l);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 10) return 0;
  const unsigned kind = data[0] % 5;
  const std::size_t max_line = 1 + data[1] * 64u;  // 1 .. 16321 bytes
  std::uint64_t cut_seed = 0;
  for (int i = 2; i < 10; ++i) cut_seed = cut_seed << 8 | data[i];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 10, size - 10);

  // Chunk the stream the way the network might: sizes 1..64 drawn from the seed (a small LCG, deterministic).
  kube::LineFramer framer(max_line);
  std::vector<std::string> got;
  auto st = kube::LineFramer::Status::ok;
  std::size_t pos = 0;
  while (pos < stream.size() && st == kube::LineFramer::Status::ok) {
    cut_seed = cut_seed * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t n = std::min<std::size_t>(1 + (cut_seed >> 58), stream.size() - pos);
    st = framer.feed(stream.substr(pos, n), [&](std::string_view line) {
      got.emplace_back(line);
      return true;
    });
    pos += n;
  }
  const auto ref = reference_split(stream, max_line);
  if ((st == kube::LineFramer::Status::too_long) != ref.too_long) fail("too_long disagrees with the reference");
  if (st == kube::LineFramer::Status::stopped) fail("stopped although the handler never returned false");
  if (!ref.too_long) {
    if (got != ref.lines) fail("lines differ from the reference split");
  } else {
    // Up to the long line the framer must have yielded a prefix of the reference's lines.
    if (got.size() > ref.lines.size()) fail("more lines than the reference before too_long");
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != ref.lines[i]) fail("a line before too_long differs from the reference");
  }
  if (framer.pending() > max_line) fail("buffered more than max_line");

  static kube::Decoder decoder;  // reused across inputs, as an informer reuses its parser
  switch (kind) {
    case 0: decode_all<probes::DeploymentView>(decoder, got); break;
    case 1: decode_all<probes::ReplicaSetView>(decoder, got); break;
    case 2: decode_all<probes::DaemonSetView>(decoder, got); break;
    case 3: decode_all<probes::ControllerRevisionView>(decoder, got); break;
    default: decode_all<probes::PodView>(decoder, got); break;
  }
  return 0;
}
