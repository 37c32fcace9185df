#include <gtest/gtest.h>

#include "daemon/kube/liveness.hpp"

using canary_guard::Duration;
using canary_guard::kube::Liveness;
using namespace std::chrono_literals;

namespace {

// One step of an informer's life and what it must say afterwards.
struct Step {
  const char* what;
  Duration at;
  enum { list, alive, fail, none } event;
  bool live;
};

}  // namespace

TEST(Liveness, Table) {
  // bound 60 s. Exact boundaries: silence of exactly the bound is still live, one millisecond more is not.
  const std::vector<Step> steps = {
      {"before the first list", 0s, Step::none, false},
      {"a watch line before any list proves nothing", 1s, Step::alive, false},
      {"listed", 2s, Step::list, true},
      {"silence of exactly the bound", 62s, Step::none, true},
      {"one millisecond past the bound", 62s + 1ms, Step::none, false},
      {"a watch opens", 63s, Step::alive, true},
      {"the watch fails", 70s, Step::fail, false},
      {"still failed, however recent", 70s + 1ms, Step::none, false},
      {"a new watch opens", 71s, Step::alive, true},
      {"an event", 100s, Step::alive, true},
      {"a list fails", 101s, Step::fail, false},
      {"relisted", 102s, Step::list, true},
      {"silent past the bound again", 200s, Step::none, false},
      {"the server ends the stream cleanly", 201s, Step::alive, true},
  };
  Liveness l(60s);
  for (const auto& s : steps) {
    switch (s.event) {
      case Step::list: l.listed(s.at); break;
      case Step::alive: l.alive(s.at); break;
      case Step::fail: l.failed("watch failed: connection reset"); break;
      case Step::none: break;
    }
    EXPECT_EQ(l.live(s.at), s.live) << s.what;
    EXPECT_EQ(l.why_not(s.at).empty(), s.live) << s.what;
  }
}

TEST(Liveness, SaysWhy) {
  Liveness l(60s);
  EXPECT_EQ(l.why_not(0s), "not listed yet");
  l.failed("list failed: forbidden");
  EXPECT_EQ(l.why_not(0s), "not listed yet (list failed: forbidden)");
  l.listed(1s);
  EXPECT_EQ(l.why_not(1s), "");
  EXPECT_EQ(l.why_not(92s), "no sign of life for 91 s (frozen watch?)");
  l.failed("watch failed: 403 forbidden");
  EXPECT_EQ(l.why_not(93s), "watch failed: 403 forbidden");
}
