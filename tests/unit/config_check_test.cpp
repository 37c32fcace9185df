// check-config: exit status, one diagnostic per line on stderr, a summary on stdout.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/check.hpp"

namespace canary_guard::config {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(ConfigCheck, ExampleIsOk) {
  std::ostringstream out, err;
  const std::string path = std::string(CG_SOURCE_DIR) + "/config/examples/canary-guard.toml";
  EXPECT_EQ(check_config_main(path, out, err), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str().rfind("config OK: " + path + ": mode=opt-out namespaces=all exclude=kube-system", 0), 0u)
      << out.str();
  EXPECT_NE(out.str().find(" max_concurrent_rollbacks=3 "), std::string::npos) << out.str();
  EXPECT_EQ(lines(out.str()).size(), 1u);
}

TEST(ConfigCheck, SummaryNamesNonDefaultChoices) {
  const std::string path = write_temp("cg-check-ok.toml",
                                      "[selection]\nnamespaces = [\"shop\"]\nlabel_selector = \"app in (a, b)\"\n"
                                      "mode = \"opt-in\"\n[guard]\non_known_bad = \"rollback\"\ndry_run = true\n");
  std::ostringstream out, err;
  ASSERT_EQ(check_config_main(path, out, err), 0) << err.str();
  const std::string s = out.str();
  for (const char* part : {"mode=opt-in", "namespaces=shop", "selector=\"app in (a,b)\"", "dry_run=true",
                           "on_known_bad=rollback known_bad_min_interval=1h", "listen=127.0.0.1:9464"})
    EXPECT_NE(s.find(part), std::string::npos) << part << " not in " << s;
}

TEST(ConfigCheck, EveryProblemOnItsOwnLineAndNonZeroExit) {
  // Values with escaped newlines must not split a diagnostic over two lines.
  const std::string path = write_temp("cg-check-bad.toml",
                                      "[log]\nlevel = \"de\\nbug\"\n[guard]\nbake_time = \"5\\nm\"\nnope = 1\n");
  std::ostringstream out, err;
  EXPECT_EQ(check_config_main(path, out, err), 1);
  EXPECT_EQ(out.str(), "");
  const auto got = lines(err.str());
  ASSERT_EQ(got.size(), 3u) << err.str();
  EXPECT_EQ(got[0].rfind(path + ":2:9: error: log.level: invalid value", 0), 0u) << got[0];
  EXPECT_EQ(got[1].rfind(path + ":4:13: error: guard.bake_time: invalid duration", 0), 0u) << got[1];
  EXPECT_EQ(got[2], path + ":5:1: error: unknown key \"nope\" in [guard]");
}

TEST(ConfigCheck, UnreadableFile) {
  std::ostringstream out, err;
  EXPECT_EQ(check_config_main("/nonexistent/cg.toml", out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str().rfind("/nonexistent/cg.toml: error: cannot read: ", 0), 0u) << err.str();
}

}  // namespace
}  // namespace canary_guard::config
