// Unit tests of podsim's simulated traffic series: exact rates and error shares, latency placement, removal.
#include "tests/sandbox/podsim/traffic.hpp"

#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

namespace canary_guard::podsim {
namespace {

const prometheus::MetricFamily* family(const std::vector<prometheus::MetricFamily>& all, const std::string& name) {
  for (const auto& f : all)
    if (f.name == name) return &f;
  return nullptr;
}

std::string label(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return "<missing>";
}

double requests(const prometheus::Registry& r, const std::string& pod, const std::string& code) {
  const auto all = r.Collect();
  const auto* f = family(all, "http_requests_total");
  if (!f) return -1;
  for (const auto& m : f->metric)
    if (label(m, "pod") == pod && label(m, "code") == code) return m.counter.value;
  return -1;
}

const PodIdentity kDeployPod{"shop", "web-abc-1", "u1", "abc", ""};
const PodIdentity kDaemonPod{"shop", "agent-x", "u2", "", "5d8f"};

TEST(Traffic, RatesAndErrorShareAreExact) {
  struct Case {
    int error_percent;
    double seconds;
    int ticks;
    double want_ok, want_err;
  };
  for (const auto& c : std::initializer_list<Case>{
           {0, 1.0, 10, 200, 0},
           {30, 1.0, 10, 140, 60},
           {100, 1.0, 3, 0, 60},
           {50, 0.5, 4, 20, 20},     // half-second ticks: 10 requests each
           {25, 1.0, 7, 105, 35},
           {5, 0.5, 10, 95, 5},      // half an error per tick: carried until whole
           {0, 0.0125, 8, 2, 0},     // a quarter request per tick: carried until whole
       }) {
    prometheus::Registry registry;
    Traffic t(registry, 20);
    for (int i = 0; i < c.ticks; ++i) t.advance(kDeployPod, c.seconds, c.error_percent, std::nullopt);
    EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "200"), c.want_ok) << c.error_percent << " " << c.ticks;
    EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "500"), c.want_err) << c.error_percent << " " << c.ticks;
  }
}

TEST(Traffic, OddInputsAreClamped) {
  prometheus::Registry registry;
  Traffic t(registry, 20);
  t.advance(kDeployPod, -5, 50, std::nullopt);  // creates the series, counts nothing
  t.advance(kDeployPod, std::nan(""), 50, std::nullopt);
  EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "200"), 0);
  t.advance(kDeployPod, 1, 250, std::nullopt);  // >100% means all errors
  EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "500"), 20);
  t.advance(kDeployPod, 1e9, 0, -7);  // a huge gap is capped at a minute; negative latency floored
  EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "200"), 1200);
}

TEST(Traffic, LabelsCarryWhicheverHashThePodHas) {
  prometheus::Registry registry;
  Traffic t(registry, 20);
  t.advance(kDeployPod, 1, 0, std::nullopt);
  t.advance(kDaemonPod, 1, 0, std::nullopt);
  const auto all = registry.Collect();
  const auto* f = family(all, "http_requests_total");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metric.size(), 4u);  // two pods x two codes
  for (const auto& m : f->metric) {
    EXPECT_EQ(label(m, "namespace"), "shop");
    if (label(m, "pod") == kDeployPod.name) {
      EXPECT_EQ(label(m, "pod_template_hash"), "abc");
      EXPECT_EQ(label(m, "controller_revision_hash"), "");
    } else {
      EXPECT_EQ(label(m, "pod_template_hash"), "");
      EXPECT_EQ(label(m, "controller_revision_hash"), "5d8f");
    }
  }
  const auto* h = family(all, "http_request_duration_seconds");
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->metric.size(), 2u);
  EXPECT_EQ(label(h->metric[0], "code"), "<missing>");
}

// Share of observations at or below `le` seconds.
double share_below(const prometheus::Registry& r, double le) {
  const auto all = r.Collect();
  const auto* h = family(all, "http_request_duration_seconds");
  if (!h || h->metric.empty()) return -1;
  const auto& hist = h->metric[0].histogram;
  for (const auto& b : hist.bucket)
    if (b.upper_bound == le) return static_cast<double>(b.cumulative_count) / static_cast<double>(hist.sample_count);
  return -1;
}

TEST(Traffic, LatencyCentresOnRequestedValue) {
  {
    prometheus::Registry registry;
    Traffic t(registry, 1000);
    t.advance(kDeployPod, 1, 0, std::nullopt);  // default ~20 ms
    EXPECT_LT(share_below(registry, 0.01), 0.05);
    EXPECT_GT(share_below(registry, 0.05), 0.95);
  }
  {
    prometheus::Registry registry;
    Traffic t(registry, 1000);
    t.advance(kDeployPod, 1, 0, 400);
    EXPECT_LT(share_below(registry, 0.25), 0.1);
    EXPECT_GT(share_below(registry, 1.0), 0.95);
  }
}

TEST(Traffic, RemoveDropsSeries) {
  prometheus::Registry registry;
  Traffic t(registry, 20);
  t.advance(kDeployPod, 1, 10, std::nullopt);
  t.advance(kDaemonPod, 1, 10, std::nullopt);
  EXPECT_TRUE(t.has("shop/web-abc-1"));
  t.remove("shop/web-abc-1");
  t.remove("shop/never-existed");
  EXPECT_FALSE(t.has("shop/web-abc-1"));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "200"), -1);
  EXPECT_GT(requests(registry, kDaemonPod.name, "200"), 0);
  // Re-adding after removal starts from zero (a new pod incarnation).
  t.advance(kDeployPod, 1, 0, std::nullopt);
  EXPECT_DOUBLE_EQ(requests(registry, kDeployPod.name, "200"), 20);
}

}  // namespace
}  // namespace canary_guard::podsim
