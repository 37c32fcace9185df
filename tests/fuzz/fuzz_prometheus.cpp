// Fuzz target: the Prometheus HTTP API answer parser (probes/prometheus.*, parse_query_response) and what the
// analyzer does next with a result (evaluate_threshold, sum_of_values), plus the sample value parser. Checks the
// documented shape: a vector or scalar result carries exactly one sample per series, warnings only when accepted.
//
// Input layout: byte 0 picks the HTTP status (200, 400, 422, 503, 500) and accept_warnings; the rest is the body.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "probes/prometheus.hpp"

namespace {

using namespace canary_guard::probes;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_prometheus: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr int kStatus[] = {200, 400, 422, 503, 500};
  const int status = kStatus[(data[0] & 0x7f) % 5];
  ParseOptions opts;
  opts.accept_warnings = data[0] & 0x80;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto r = parse_query_response(status, body, opts);
  if (r) {
    if (status != 200) fail("a non-2xx answer parsed as a result");
    if (!opts.accept_warnings && !r->warnings.empty()) fail("warnings returned although not accepted");
    if (r->type != ResultType::matrix)
      for (const auto& s : r->series)
        if (s.samples.size() != 1) fail("vector/scalar series without exactly one sample");
    (void)evaluate_threshold(*r, Threshold{.min = std::nullopt, .max = 0.05});
    (void)evaluate_threshold(*r, Threshold{.min = 1.0, .max = std::nullopt}, MinSamples{.required = 10, .observed = 3});
    if (auto sum = sum_of_values(*r); sum && std::isnan(*sum)) fail("sum_of_values is NaN (NaN samples are skipped)");
  } else {
    (void)to_probe_result(r.error());
  }
  // The sample value grammar on the same bytes (short strings are what Prometheus sends).
  (void)parse_sample_value(body.substr(0, 64));
  return 0;
}
