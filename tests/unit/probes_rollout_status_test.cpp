// kubectl rollout status, row by row (kubernetes-rollouts.md §7.2, §7.3), messages verbatim.
#include <gtest/gtest.h>

#include <limits>

#include "probes/rollout_status.hpp"

namespace canary_guard::probes {
namespace {

using State = RolloutStatus::State;
using namespace std::chrono_literals;

const TimePoint kT0{std::chrono::seconds{1'700'000'000}};

DeploymentView complete_deployment() {
  DeploymentView d;
  d.meta.name = "checkout";
  d.meta.generation = 4;
  d.observed_generation = 4;
  d.spec_replicas = 3;
  d.replicas = 3;
  d.updated_replicas = 3;
  d.ready_replicas = 3;
  d.available_replicas = 3;
  d.meta.annotations = {{"deployment.kubernetes.io/revision", "7"}};
  return d;
}

Condition progressing(std::string status, std::string reason, TimePoint updated) {
  return Condition{"Progressing", std::move(status), std::move(reason), updated, updated};
}

TEST(DeploymentRolloutStatus, Row6Success) {
  auto s = deployment_rollout_status(complete_deployment());
  EXPECT_EQ(s.state, State::success);
  EXPECT_EQ(s.message, "deployment \"checkout\" successfully rolled out\n");
}

TEST(DeploymentRolloutStatus, Row0RevisionAnnotationUnparsable) {
  struct Case {
    std::string annotation;
    std::string err;
  };
  for (const Case& c : std::vector<Case>{
           {"abc", "strconv.ParseInt: parsing \"abc\": invalid syntax"},
           {"", "strconv.ParseInt: parsing \"\": invalid syntax"},
           {"+", "strconv.ParseInt: parsing \"+\": invalid syntax"},
           {"7 ", "strconv.ParseInt: parsing \"7 \": invalid syntax"},
           {"1_0", "strconv.ParseInt: parsing \"1_0\": invalid syntax"},
           {"9223372036854775808", "strconv.ParseInt: parsing \"9223372036854775808\": value out of range"},
           {"99999999999999999999x", "strconv.ParseInt: parsing \"99999999999999999999x\": value out of range"},
       }) {
    auto d = complete_deployment();
    d.meta.annotations = {{"deployment.kubernetes.io/revision", c.annotation}};
    auto s = deployment_rollout_status(d, 7);
    EXPECT_EQ(s.state, State::error) << c.annotation;
    EXPECT_EQ(s.message, "cannot get the revision of deployment \"checkout\": " + c.err) << c.annotation;
    // Without --revision the annotation is never read.
    EXPECT_EQ(deployment_rollout_status(d, 0).state, State::success);
  }
}

TEST(DeploymentRolloutStatus, Row0PrimeRevisionMismatch) {
  auto d = complete_deployment();
  auto s = deployment_rollout_status(d, 6);
  EXPECT_EQ(s.state, State::error);
  EXPECT_EQ(s.message, "desired revision (6) is different from the running revision (7)");
  EXPECT_EQ(deployment_rollout_status(d, 7).state, State::success);
  EXPECT_EQ(deployment_rollout_status(d, -1).state, State::success);  // only N > 0 is checked

  d.meta.annotations.clear();  // missing counts as 0
  s = deployment_rollout_status(d, 3);
  EXPECT_EQ(s.state, State::error);
  EXPECT_EQ(s.message, "desired revision (3) is different from the running revision (0)");

  d.meta.annotations = {{"deployment.kubernetes.io/revision", "+3"}};  // Go accepts a sign
  EXPECT_EQ(deployment_rollout_status(d, 3).state, State::success);
}

TEST(DeploymentRolloutStatus, Row1GenerationNotObserved) {
  auto d = complete_deployment();
  d.meta.generation = 5;
  d.conditions = {progressing("False", "ProgressDeadlineExceeded", kT0)};  // row 1 wins over row 2
  auto s = deployment_rollout_status(d);
  EXPECT_EQ(s.state, State::waiting);
  EXPECT_EQ(s.message, "Waiting for deployment spec update to be observed...\n");
  d.observed_generation = 6;  // observed > generation is fine
  EXPECT_EQ(deployment_rollout_status(d).state, State::failed);
}

TEST(DeploymentRolloutStatus, Row2ProgressDeadlineIgnoresStatus) {
  for (const char* status : {"False", "True", "Unknown"}) {
    auto d = complete_deployment();
    d.updated_replicas = 1;
    d.conditions = {progressing(status, "ProgressDeadlineExceeded", kT0)};
    auto s = deployment_rollout_status(d);
    EXPECT_EQ(s.state, State::failed) << status;
    EXPECT_EQ(s.message, "deployment \"checkout\" exceeded its progress deadline") << status;
  }
  auto d = complete_deployment();
  d.conditions = {progressing("True", "NewReplicaSetAvailable", kT0),
                  Condition{"Available", "False", "ProgressDeadlineExceeded", kT0, kT0}};
  EXPECT_EQ(deployment_rollout_status(d).state, State::success);  // only the Progressing condition counts
}

TEST(DeploymentRolloutStatus, Row3NewReplicasNotUpdated) {
  auto d = complete_deployment();
  d.updated_replicas = 1;
  auto s = deployment_rollout_status(d);
  EXPECT_EQ(s.state, State::waiting);
  EXPECT_EQ(s.message, "Waiting for deployment \"checkout\" rollout to finish: 1 out of 3 new replicas have been updated...\n");
  d.replicas_set = false;  // spec.replicas unset: row 3 skipped; row 4 (3 > 1) applies
  EXPECT_EQ(deployment_rollout_status(d).message,
            "Waiting for deployment \"checkout\" rollout to finish: 2 old replicas are pending termination...\n");
}

TEST(DeploymentRolloutStatus, Row4OldReplicasPending) {
  auto d = complete_deployment();
  d.replicas = 5;
  auto s = deployment_rollout_status(d);
  EXPECT_EQ(s.state, State::waiting);
  EXPECT_EQ(s.message, "Waiting for deployment \"checkout\" rollout to finish: 2 old replicas are pending termination...\n");
}

TEST(DeploymentRolloutStatus, Row5UpdatedNotAvailable) {
  auto d = complete_deployment();
  d.available_replicas = 0;
  auto s = deployment_rollout_status(d);
  EXPECT_EQ(s.state, State::waiting);
  EXPECT_EQ(s.message, "Waiting for deployment \"checkout\" rollout to finish: 0 of 3 updated replicas are available...\n");
}

TEST(DeploymentRolloutStatus, ZeroReplicasIsSuccess) {
  DeploymentView d;
  d.meta.name = "idle";
  d.spec_replicas = 0;
  EXPECT_EQ(deployment_rollout_status(d).message, "deployment \"idle\" successfully rolled out\n");
}

TEST(DeploymentRolloutStatus, StaleDeadlineDeviation) {
  const TimePoint patch = kT0 + 600s;
  auto d = complete_deployment();
  d.updated_replicas = 0;
  d.conditions = {progressing("False", "ProgressDeadlineExceeded", patch - 1ms)};
  // Stale: evaluation continues with row 3.
  auto s = deployment_rollout_status(d, 0, patch);
  EXPECT_EQ(s.state, State::waiting);
  EXPECT_EQ(s.message, "Waiting for deployment \"checkout\" rollout to finish: 0 out of 3 new replicas have been updated...\n");
  // Exactly at the PATCH time is not "before": it fails.
  d.conditions = {progressing("False", "ProgressDeadlineExceeded", patch)};
  EXPECT_EQ(deployment_rollout_status(d, 0, patch).state, State::failed);
  // Without the deviation it is kubectl: fail at once.
  d.conditions = {progressing("False", "ProgressDeadlineExceeded", patch - 1h)};
  EXPECT_EQ(deployment_rollout_status(d).state, State::failed);
  // A stale condition on a complete Deployment: success.
  auto c = complete_deployment();
  c.conditions = {progressing("False", "ProgressDeadlineExceeded", patch - 1h)};
  EXPECT_EQ(deployment_rollout_status(c, 0, patch).state, State::success);
}

TEST(DeploymentRolloutStatus, NameIsGoQuoted) {
  auto d = complete_deployment();
  d.meta.name = "a\"b\\c\n";
  EXPECT_EQ(deployment_rollout_status(d).message, "deployment \"a\\\"b\\\\c\\n\" successfully rolled out\n");
}

TEST(GoParseInt64, Limits) {
  EXPECT_EQ(go_parse_int64("9223372036854775807").value, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(go_parse_int64("-9223372036854775808").value, std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(go_parse_int64("-9223372036854775809").value);
  EXPECT_EQ(go_parse_int64("-0").value, 0);
  EXPECT_EQ(go_parse_int64("007").value, 7);
  EXPECT_FALSE(go_parse_int64("0x1").value);
  EXPECT_FALSE(go_parse_int64("-").value);
}

DaemonSetView complete_daemonset() {
  DaemonSetView ds;
  ds.meta.name = "node-agent";
  ds.meta.generation = 2;
  ds.observed_generation = 2;
  ds.update_strategy = "RollingUpdate";
  ds.desired_number_scheduled = 4;
  ds.current_number_scheduled = 4;
  ds.updated_number_scheduled = 4;
  ds.number_ready = 4;
  ds.number_available = 4;
  return ds;
}

TEST(DaemonSetRolloutStatus, Rows) {
  struct Case {
    const char* name;
    void (*mutate)(DaemonSetView&);
    State state;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"row0 OnDelete", [](DaemonSetView& d) { d.update_strategy = "OnDelete"; }, State::error,
       "rollout status is only available for RollingUpdate strategy type"},
      {"row0 empty strategy", [](DaemonSetView& d) { d.update_strategy = ""; }, State::error,
       "rollout status is only available for RollingUpdate strategy type"},
      {"row0 before row1",
       [](DaemonSetView& d) {
         d.update_strategy = "OnDelete";
         d.meta.generation = 3;
       },
       State::error, "rollout status is only available for RollingUpdate strategy type"},
      {"row1", [](DaemonSetView& d) { d.meta.generation = 3; }, State::waiting,
       "Waiting for daemon set spec update to be observed...\n"},
      {"row2", [](DaemonSetView& d) { d.updated_number_scheduled = 1; }, State::waiting,
       "Waiting for daemon set \"node-agent\" rollout to finish: 1 out of 4 new pods have been updated...\n"},
      {"row3", [](DaemonSetView& d) { d.number_available = 3; }, State::waiting,
       "Waiting for daemon set \"node-agent\" rollout to finish: 3 of 4 updated pods are available...\n"},
      {"row4", [](DaemonSetView&) {}, State::success, "daemon set \"node-agent\" successfully rolled out\n"},
      {"row4 zero nodes",
       [](DaemonSetView& d) {
         d.desired_number_scheduled = d.updated_number_scheduled = d.number_available = 0;
       },
       State::success, "daemon set \"node-agent\" successfully rolled out\n"},
  };
  for (const Case& c : cases) {
    auto ds = complete_daemonset();
    c.mutate(ds);
    auto s = daemonset_rollout_status(ds);
    EXPECT_EQ(s.state, c.state) << c.name;
    EXPECT_EQ(s.message, c.message) << c.name;
  }
}

TEST(RolloutStatusState, ToString) {
  EXPECT_STREQ(to_string(State::waiting), "waiting");
  EXPECT_STREQ(to_string(State::success), "success");
  EXPECT_STREQ(to_string(State::failed), "failed");
  EXPECT_STREQ(to_string(State::error), "error");
}

}  // namespace
}  // namespace canary_guard::probes
