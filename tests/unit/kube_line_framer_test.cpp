#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "daemon/kube/client.hpp"
#include "daemon/kube/line_framer.hpp"

namespace canary_guard::kube {
namespace {

std::vector<std::string> frame(const std::string& stream, const std::vector<std::size_t>& cuts,
                               LineFramer::Status* last = nullptr, std::size_t max_line = 1 << 20) {
  LineFramer f(max_line);
  std::vector<std::string> out;
  std::size_t pos = 0;
  auto feed = [&](std::string_view part) {
    auto st = f.feed(part, [&](std::string_view l) {
      out.emplace_back(l);
      return true;
    });
    if (last) *last = st;
  };
  for (auto c : cuts) {
    feed(std::string_view(stream).substr(pos, c - pos));
    pos = c;
  }
  feed(std::string_view(stream).substr(pos));
  return out;
}

const std::string kStream =
    "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"b\":\"x\\ny\"}}\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{}}\r\n";
const std::vector<std::string> kLines = {"{\"type\":\"ADDED\",\"object\":{\"a\":1}}",
                                         "{\"type\":\"MODIFIED\",\"object\":{\"b\":\"x\\ny\"}}",
                                         "{\"type\":\"BOOKMARK\",\"object\":{}}"};

TEST(LineFramer, WholeStream) { EXPECT_EQ(frame(kStream, {}), kLines); }

TEST(LineFramer, EverySingleSplitPoint) {
  for (std::size_t i = 0; i <= kStream.size(); ++i) EXPECT_EQ(frame(kStream, {i}), kLines) << "split at " << i;
}

TEST(LineFramer, ByteByByte) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kStream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(frame(kStream, cuts), kLines);
}

TEST(LineFramer, RandomSplits) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t pos = 0;
    while (true) {
      pos += std::uniform_int_distribution<std::size_t>(1, 20)(rng);
      if (pos >= kStream.size()) break;
      cuts.push_back(pos);
    }
    EXPECT_EQ(frame(kStream, cuts), kLines);
  }
}

TEST(LineFramer, PendingPartialLine) {
  LineFramer f;
  int n = 0;
  f.feed("{\"a\":1}\n{\"b\"", [&](std::string_view) { return ++n, true; });
  EXPECT_EQ(n, 1);
  EXPECT_EQ(f.pending(), 4u);
}

TEST(LineFramer, TooLongLineIsRejected) {
  LineFramer::Status st{};
  frame(std::string(100, 'x') + "\n", {}, &st, 64);
  EXPECT_EQ(st, LineFramer::Status::too_long);
  frame(std::string(100, 'x'), {30, 60, 90}, &st, 64);  // never terminated: caught while buffering
  EXPECT_EQ(st, LineFramer::Status::too_long);
  frame(std::string(40, 'x'), {30}, &st, 64);
  EXPECT_EQ(st, LineFramer::Status::ok);
  frame(std::string(64, 'x') + "\n", {10}, &st, 64);  // exactly at the limit is fine
  EXPECT_EQ(st, LineFramer::Status::ok);
}

TEST(LineFramer, HandlerCanStop) {
  LineFramer f;
  int n = 0;
  auto st = f.feed("a\nb\nc\n", [&](std::string_view) { return ++n < 2; });
  EXPECT_EQ(st, LineFramer::Status::stopped);
  EXPECT_EQ(n, 2);
}

TEST(ClientHelpers, ResourceOfPath) {
  EXPECT_EQ(resource_of("/apis/apps/v1/namespaces/x/deployments/y/status"), "deployments");
  EXPECT_EQ(resource_of("/apis/apps/v1/deployments?watch=1"), "deployments");
  EXPECT_EQ(resource_of("/api/v1/pods"), "pods");
  EXPECT_EQ(resource_of("/api/v1/namespaces/shop"), "namespaces");
  EXPECT_EQ(resource_of("/api/v1/namespaces"), "namespaces");
  EXPECT_EQ(resource_of("/api/v1/nodes/n1"), "nodes");
  EXPECT_EQ(resource_of("/healthz"), "other");
}

TEST(ClientHelpers, Targets) {
  ListOptions lo;
  lo.label_selector = "app=web,tier=a b";
  lo.limit = 50;
  lo.continue_token = "abc=";
  EXPECT_EQ(list_target("/api/v1/pods", lo), "/api/v1/pods?labelSelector=app%3Dweb%2Ctier%3Da%20b&limit=50&continue=abc%3D");
  WatchOptions wo;
  wo.resource_version = "123";
  wo.timeout_seconds = 400;
  EXPECT_EQ(watch_target("/apis/apps/v1/deployments", wo),
            "/apis/apps/v1/deployments?watch=1&resourceVersion=123&allowWatchBookmarks=true&timeoutSeconds=400");
}

}  // namespace
}  // namespace canary_guard::kube
