// PrometheusClient against the sandbox's real Prometheus 2.42 (scripts/sandbox up; eval "$(scripts/sandbox env)").
// Skips with a reason when PROMETHEUS_URL is not set.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>
#include <string>

#include "daemon/prom/prometheus_client.hpp"
#include "tests/integration/it_support.hpp"

namespace canary_guard::prom {
namespace {

using namespace std::chrono_literals;
using probes::ErrorClass;

struct Recorder : QueryObserver {
  void request(std::string_view, int code, double) override { codes.push_back(code); }
  std::vector<int> codes;
};

using it::run;

class PromClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("PROMETHEUS_URL");
    if (!url || !*url)
      GTEST_SKIP() << "PROMETHEUS_URL not set: run scripts/sandbox up and eval \"$(scripts/sandbox env)\"";
    ClientOptions o;
    o.url = url;
    o.timeout = 5s;
    auto v = PrometheusClient::validate(o);
    ASSERT_TRUE(v) << v.error();
    client_.emplace(ioc_, *v, &rec_);
  }
  Expected<probes::QueryResult, probes::QueryError> query(std::string promql) {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto slot = std::chrono::steady_clock::now() + 10s;
    return run(ioc_, client_->query(std::move(promql), now - 1.0, slot));
  }
  static double first_value(const probes::QueryResult& r) { return r.series.at(0).samples.at(0).value; }

  boost::asio::io_context ioc_;
  Recorder rec_;
  std::optional<PrometheusClient> client_;
};

TEST_F(PromClientIT, ReadyAndBuildinfo) {
  EXPECT_TRUE(run(ioc_, client_->ready()));
  auto v = run(ioc_, client_->buildinfo());
  ASSERT_TRUE(v) << v.error().type << ": " << v.error().message;
  EXPECT_EQ(v->rfind("2.", 0), 0u) << *v;
}

TEST_F(PromClientIT, QueryUp) {
  auto r = query("up");
  ASSERT_TRUE(r) << r.error().type << ": " << r.error().message;
  EXPECT_EQ(r->type, probes::ResultType::vector);
  // The sandbox scrapes itself and podsim; right after a start the first evaluation may still be empty (§1.5).
  for (const auto& s : r->series) {
    ASSERT_EQ(s.samples.size(), 1u);
    EXPECT_TRUE(s.samples[0].value == 0.0 || s.samples[0].value == 1.0);
  }
}

TEST_F(PromClientIT, PositiveInfinity) {
  auto r = query("vector(1)/0");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_TRUE(std::isinf(first_value(*r)) && first_value(*r) > 0);
}

TEST_F(PromClientIT, NotANumber) {
  auto r = query("0/0");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->type, probes::ResultType::scalar);
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_TRUE(std::isnan(first_value(*r)));
}

TEST_F(PromClientIT, SpecialCharactersSurviveTheFormEncoding) {
  // Exercises `{`, `"`, `=~`, `+`, spaces and `&` end to end: a mis-encoded body would be a bad_data error.
  auto r = query(R"(count(up{job=~".+", job!="a & b"}) + 0 or vector(0))");
  ASSERT_TRUE(r) << r.error().type << ": " << r.error().message;
  EXPECT_EQ(r->series.size(), 1u);
}

TEST_F(PromClientIT, ParseErrorIsConfigBadData) {
  auto r = query("sum(");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::config);
  EXPECT_EQ(r.error().type, "bad_data");
  EXPECT_EQ(rec_.codes, std::vector<int>{400});  // not retried
}

TEST_F(PromClientIT, KeepAliveAcrossQueries) {
  // Not observable from here as a connection count; at least two queries in a row must both succeed on the pool.
  ASSERT_TRUE(query("vector(2)"));
  auto r = query("vector(3)");
  ASSERT_TRUE(r);
  EXPECT_EQ(first_value(*r), 3.0);
}

}  // namespace
}  // namespace canary_guard::prom
