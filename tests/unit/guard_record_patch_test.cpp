// record_patch (daemon/guard/kube_writer.hpp): a record that replaces one is a compare-and-swap on the old text,
// so two processes that both believe they lead cannot both move one rollback record on (tests/e2e/test_two_leaders.sh
// shows it against the apiserver); so is a first record: it tests the member (or the whole annotations map) absent,
// so two processes cannot both write the first record (tests/integration/record_race_test.cpp, against the apiserver).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/guard/kube_writer.hpp"
#include "daemon/guard/records.hpp"

namespace g = canary_guard::guard;
using canary_guard::kube::PatchType;

TEST(RecordPatch, AFirstRecordTestsItsAbsence) {
  g::Revision rev;
  rev.name = "web-abc";  // has_annotations: a ReplicaSet carries deployment.kubernetes.io/revision
  auto p = g::record_patch(rev, std::string("v1"), std::nullopt);
  ASSERT_EQ(p.type, PatchType::json);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]["op"], "test");
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations/canary-guard.io~1verdict");
  ASSERT_TRUE(ops[0].contains("value"));  // an explicit null: the apiserver's patcher needs the member
  EXPECT_TRUE(ops[0]["value"].is_null());
  EXPECT_EQ(ops[1]["op"], "add");
  EXPECT_EQ(ops[1]["value"], "v1");
}

TEST(RecordPatch, WithoutAnnotationsTheMapIsTestedAbsentAndCreated) {
  g::Revision rev;
  rev.has_annotations = false;
  auto p = g::record_patch(rev, std::string("v1"), std::string("r1"));
  ASSERT_EQ(p.type, PatchType::json);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]["op"], "test");
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations");
  EXPECT_TRUE(ops[0]["value"].is_null());
  EXPECT_EQ(ops[1]["op"], "add");
  EXPECT_EQ(ops[1]["path"], "/metadata/annotations");
  EXPECT_EQ(ops[1]["value"][std::string(g::kVerdictAnnotation)], "v1");
  EXPECT_EQ(ops[1]["value"][std::string(g::kRollbackAnnotation)], "r1");
}

TEST(RecordPatch, AKnownRecordTextMeansTheMapIsThere) {
  // This process wrote the first record (creating the map) and its cache has not shown it yet: the next write
  // swaps that text, it does not test the map absent (which would fail forever).
  g::Revision rev;
  rev.has_annotations = false;
  rev.verdict_text = "healthy mine";
  auto p = g::record_patch(rev, std::string("failed new"), std::nullopt);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations/canary-guard.io~1verdict");
  EXPECT_EQ(ops[0]["value"], "healthy mine");
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

TEST(RecordPatch, BothRecordsEachIsTestedForWhatWasRead) {
  g::Revision rev;
  rev.verdict_text = "healthy old";
  auto p = g::record_patch(rev, std::string("failed new"), std::string("started new"));
  ASSERT_EQ(p.type, PatchType::json);
  const auto ops = nlohmann::json::parse(p.body);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0]["op"], "test");
  EXPECT_EQ(ops[0]["path"], "/metadata/annotations/canary-guard.io~1verdict");
  EXPECT_EQ(ops[0]["value"], "healthy old");
  EXPECT_EQ(ops[1]["op"], "add");
  EXPECT_EQ(ops[1]["value"], "failed new");
  EXPECT_EQ(ops[2]["op"], "test");  // the rollback record was not there: a second writer's would make this fail
  EXPECT_EQ(ops[2]["path"], "/metadata/annotations/canary-guard.io~1rollback");
  EXPECT_TRUE(ops[2]["value"].is_null());
  EXPECT_EQ(ops[3]["op"], "add");
  EXPECT_EQ(ops[3]["path"], "/metadata/annotations/canary-guard.io~1rollback");
}
