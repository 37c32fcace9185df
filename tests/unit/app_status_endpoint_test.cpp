// GET /status's query parsing (daemon/app/status_endpoint.hpp); the endpoint itself is tested end to end against the
// sandbox (tests/e2e/test_server_tls.sh: the same JSON as `canary-guard status -o json`).
#include <gtest/gtest.h>

#include "daemon/app/status_endpoint.hpp"

using canary_guard::app::query_value;

TEST(StatusEndpoint, QueryValue) {
  struct Row {
    const char* target;
    const char* want;
  };
  const Row rows[] = {
      {"/status", ""},
      {"/status?", ""},
      {"/status?namespace=shop", "shop"},
      {"/status?x=1&namespace=shop&y=2", "shop"},
      {"/status?namespace=", ""},
      {"/status?namespace", ""},
      {"/status?namespaces=shop", ""},
      {"/status?a=namespace=shop", ""},
      {"/status?namespace=a&namespace=b", "a"},
  };
  for (const auto& r : rows) EXPECT_EQ(query_value(r.target, "namespace"), r.want) << r.target;
}
