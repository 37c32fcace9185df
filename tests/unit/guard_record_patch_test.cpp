// record_patch (daemon/guard/kube_writer.hpp): a record that replaces one is a compare-and-swap on the old text,
// so two processes that both believe they lead cannot both move one rollback record on (tests/e2e/test_two_leaders.sh
// shows it against the apiserver); a first record stays a merge patch (it also creates a missing annotations map).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/guard/kube_writer.hpp"
#include "daemon/guard/records.hpp"

namespace g = canary_guard::guard;
using canary_guard::kube::PatchType;

TEST(RecordPatch, FirstRecordsAreAMergePatch) {
  g::Revision rev;
  rev.name = "web-abc";
  auto p = g::record_patch(rev, std::string("v1"), std::string("r1"));
  EXPECT_EQ(p.type, PatchType::merge);
  const auto j = nlohmann::json::parse(p.body);
  EXPECT_EQ(j["metadata"]["annotations"][std::string(g::kVerdictAnnotation)], "v1");
  EXPECT_EQ(j["metadata"]["annotations"][std::string(g::kRollbackAnnotation)], "r1");
}

TEST(RecordPatch, ReplacingARecordTestsItsOldTextFirst) {
  g::Revision rev;
  rev.rollback_text = "started old";
  rev.verdict_text = "healthy old";
  auto p = g::record_patch(rev, std::nullopt, std::string("waiting new"));
  ASSERT_EQ(p.type, PatchType::json);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]["op"], "test");
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations/canary-guard.io~1rollback");
  EXPECT_EQ(ops[0]["value"], "started old");
  EXPECT_EQ(ops[1]["op"], "add");
  EXPECT_EQ(ops[1]["path"], "/metadata/annotations/canary-guard.io~1rollback");
  EXPECT_EQ(ops[1]["value"], "waiting new");
  // The verdict is not written, so its old text is not tested (a verdict written meanwhile does not block this).
}

TEST(RecordPatch, BothRecordsOnlyTheExistingOneIsTested) {
  g::Revision rev;
  rev.verdict_text = "healthy old";
  auto p = g::record_patch(rev, std::string("failed new"), std::string("started new"));
  ASSERT_EQ(p.type, PatchType::json);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0]["op"], "test");
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations/canary-guard.io~1verdict");
  EXPECT_EQ(ops[1]["op"], "add");
  EXPECT_EQ(ops[1]["value"], "failed new");
  EXPECT_EQ(ops[2]["op"], "add");
  EXPECT_EQ(ops[2]["path"], "/metadata/annotations/canary-guard.io~1rollback");
}
