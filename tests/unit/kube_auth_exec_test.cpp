// The kubeconfig exec credential plugin runs as a real child process (a shell script in a temp dir), read
// asynchronously: these tests check the result, the deadline, the error text, that concurrent callers share one
// run, that no child is left behind and that the io_context keeps serving other handlers meanwhile.
// The deadline tests wait in real time (the plugin is a real process), bounded by a short exec_timeout.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "daemon/kube/auth.hpp"

namespace canary_guard::kube {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using AuthResult = Expected<AuthInfo, std::string>;

constexpr const char* kCredential =
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-tok"}})";

class ExecPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg-exec-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A plugin script; `body` is sh. $DIR is the test's directory.
  Credentials plugin(const std::string& body) {
    const auto path = dir_ / "plugin.sh";
    std::ofstream(path) << "#!/bin/sh\nDIR='" << dir_.string() << "'\n" << body << "\n";
    fs::permissions(path, fs::perms::owner_all);
    Credentials c;
    c.server = "https://127.0.0.1:6443";
    c.exec = ExecSpec{path.string(), {}, {}, "client.authentication.k8s.io/v1"};
    return c;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Starts auth.current() on ioc_; the result lands in `out` once ioc_ has run far enough.
  void start(AuthProvider& auth, std::optional<AuthResult>& out) {
    asio::co_spawn(
        ioc_, [&]() -> asio::awaitable<void> { out.emplace(co_await auth.current()); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  AuthResult run_one(AuthProvider& auth) {
    std::optional<AuthResult> out;
    start(auth, out);
    ioc_.run();
    ioc_.restart();
    if (!out) return unexpected(std::string("current() did not complete"));
    return std::move(*out);
  }

  fs::path dir_;
  asio::io_context ioc_;
  ManualClock clock_;
};

TEST_F(ExecPlugin, PrintsCredential) {
  auto creds = plugin(std::string("echo '") + kCredential + "'\necho 'a warning' >&2");
  AuthProvider auth(ioc_, creds, clock_);
  auto r = run_one(auth);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->token, "exec-tok");
}

TEST_F(ExecPlugin, SeesExecInfoAndDevNullStdin) {
  // KUBERNETES_EXEC_INFO carries the ExecCredential spec; stdin is /dev/null (read gives EOF at once).
  auto creds = plugin(std::string("case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 9;; "
                                  "esac\nif read -r line; then exit 8; fi\necho '") +
                      kCredential + "'");
  AuthProvider auth(ioc_, creds, clock_);
  auto r = run_one(auth);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->token, "exec-tok");
}

TEST_F(ExecPlugin, TimesOutAndLeavesNoChild) {
  // exec: the pid written is the process that is killed (no orphaned `sleep` holding the pipes).
  auto creds = plugin("echo $$ > \"$DIR/pid\"\nexec sleep 30");
  AuthProvider auth(ioc_, creds, clock_, AuthOptions{std::chrono::milliseconds{300}});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "exec plugin " + creds.exec->command + " timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{20});  // far below the plugin's 30 s
  const std::string pid_text = read("pid");
  ASSERT_FALSE(pid_text.empty());
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  // Reaped: neither running nor a zombie (kill(pid, 0) succeeds on a zombie), and no child of ours is left.
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(ExecPlugin, FailureCarriesStatusAndFirstStderrLine) {
  auto creds = plugin("echo '' >&2\necho '  error: token expired, run login  ' >&2\necho 'second line' >&2\nexit 1");
  AuthProvider auth(ioc_, creds, clock_);
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "exec plugin " + creds.exec->command + " failed with status 1: error: token expired, run login");
}

TEST_F(ExecPlugin, FailureWithoutStderr) {
  auto creds = plugin("exit 3");
  AuthProvider auth(ioc_, creds, clock_);
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "exec plugin " + creds.exec->command + " failed with status 3");
}

TEST_F(ExecPlugin, HugeStderrDoesNotBlockThePlugin) {
  // 4 MiB on stderr (far past the 64 KiB kept and the pipe buffer) before the credential.
  auto creds = plugin(std::string("head -c 4194304 /dev/zero | tr '\\0' x >&2\necho '") + kCredential + "'");
  AuthProvider auth(ioc_, creds, clock_, AuthOptions{std::chrono::seconds{20}});
  auto r = run_one(auth);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->token, "exec-tok");
}

TEST_F(ExecPlugin, OversizedStdoutIsAnError) {
  auto creds = plugin("head -c 2097152 /dev/zero | tr '\\0' x");
  AuthProvider auth(ioc_, creds, clock_, AuthOptions{std::chrono::seconds{20}});
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("output exceeds"), std::string::npos) << r.error();
}

TEST_F(ExecPlugin, MissingCommand) {
  Credentials c;
  c.exec = ExecSpec{(dir_ / "no-such-plugin").string(), {}, {}, "client.authentication.k8s.io/v1"};
  AuthProvider auth(ioc_, c, clock_);
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("no-such-plugin"), std::string::npos) << r.error();
}

TEST_F(ExecPlugin, ConcurrentCallersShareOneRun) {
  auto creds = plugin(std::string("echo run >> \"$DIR/count\"\nsleep 0.3\necho '") + kCredential + "'");
  AuthProvider auth(ioc_, creds, clock_);
  std::optional<AuthResult> a, b, c;
  start(auth, a);
  start(auth, b);
  start(auth, c);
  ioc_.run();
  ioc_.restart();
  for (auto* r : {&a, &b, &c}) {
    ASSERT_TRUE(*r);
    ASSERT_TRUE(**r) << (*r)->error();
    EXPECT_EQ((**r)->token, "exec-tok");
  }
  EXPECT_EQ(read("count"), "run\n");
  // Cached afterwards; a 401 (invalidate) runs it once more.
  EXPECT_TRUE(run_one(auth));
  EXPECT_EQ(read("count"), "run\n");
  auth.invalidate();
  EXPECT_TRUE(run_one(auth));
  EXPECT_EQ(read("count"), "run\nrun\n");
}

TEST_F(ExecPlugin, ConcurrentCallersShareTheFailure) {
  auto creds = plugin("echo run >> \"$DIR/count\"\nsleep 0.2\necho nope >&2\nexit 2");
  AuthProvider auth(ioc_, creds, clock_);
  std::optional<AuthResult> a, b;
  start(auth, a);
  start(auth, b);
  ioc_.run();
  ioc_.restart();
  ASSERT_TRUE(a && b);
  ASSERT_FALSE(*a);
  ASSERT_FALSE(*b);
  EXPECT_EQ(a->error(), b->error());
  EXPECT_EQ(read("count"), "run\n");
}

TEST_F(ExecPlugin, AFailingPluginIsRetriedWithBackoffNotOnEveryRequest) {
  // Before: every request (and every watch) spawned the failing plugin again.
  auto creds = plugin("echo run >> \"$DIR/count\"\nif [ -f \"$DIR/ok\" ]; then echo '" + std::string(kCredential) +
                      "'; else echo 'login expired' >&2; exit 1; fi");
  AuthOptions o;
  o.exec_backoff_min = std::chrono::seconds{1};
  o.exec_backoff_max = std::chrono::seconds{4};
  AuthProvider auth(ioc_, creds, clock_, o);
  auto first = run_one(auth);
  ASSERT_FALSE(first);
  EXPECT_EQ(read("count"), "run\n");
  // Within the backoff: the same failure at once, no run.
  for (int i = 0; i < 5; ++i) {
    auto r = run_one(auth);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("login expired"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("next try in"), std::string::npos) << r.error();
  }
  EXPECT_EQ(read("count"), "run\n");
  clock_.advance(std::chrono::milliseconds{700});  // under the jittered minimum (0.8 s)
  EXPECT_FALSE(run_one(auth));
  EXPECT_EQ(read("count"), "run\n");
  clock_.advance(std::chrono::milliseconds{300});  // 1 s: the second run, failing again; the wait doubles
  EXPECT_FALSE(run_one(auth));
  EXPECT_EQ(read("count"), "run\nrun\n");
  clock_.advance(std::chrono::milliseconds{1500});  // under 0.8 x 2 s
  EXPECT_FALSE(run_one(auth));
  EXPECT_EQ(read("count"), "run\nrun\n");
  clock_.advance(std::chrono::milliseconds{500});  // 2 s
  EXPECT_FALSE(run_one(auth));
  EXPECT_EQ(read("count"), "run\nrun\nrun\n");
  // Capped at 4 s: after 4 s there is always a run; once the plugin works, it is used at once.
  std::ofstream(dir_ / "ok") << "1";
  clock_.advance(std::chrono::seconds{4});
  auto ok = run_one(auth);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->token, "exec-tok");
  EXPECT_EQ(read("count"), "run\nrun\nrun\nrun\n");
}

TEST_F(ExecPlugin, IoContextKeepsRunningWhileThePluginRuns) {
  auto creds = plugin(std::string("sleep 0.5\necho '") + kCredential + "'");
  AuthProvider auth(ioc_, creds, clock_);
  std::optional<AuthResult> out;
  bool fired_before_result = false;
  int ticks = 0;
  asio::steady_timer timer(ioc_);
  std::function<void(const boost::system::error_code&)> tick = [&](const boost::system::error_code& ec) {
    if (ec) return;
    ++ticks;
    if (!out) {
      fired_before_result = true;
      timer.expires_after(std::chrono::milliseconds{20});
      timer.async_wait(tick);
    }
  };
  start(auth, out);
  timer.expires_after(std::chrono::milliseconds{20});
  timer.async_wait(tick);
  ioc_.run();
  ASSERT_TRUE(out);
  ASSERT_TRUE(*out) << out->error();
  EXPECT_TRUE(fired_before_result);
  EXPECT_GE(ticks, 3);  // the plugin takes 0.5 s; a blocked io thread would have let at most one tick through
}

}  // namespace
}  // namespace canary_guard::kube

namespace canary_guard::kube {
namespace {

// tokenFile: an empty file is an error (as in client-go), never a request without authorization; a token already
// read is kept while a rotation rewrites the file; the new token is used once it is there.
TEST_F(ExecPlugin, EmptyTokenFileIsAnError) {
  Credentials c;
  c.server = "https://127.0.0.1:6443";
  c.token_file = (dir_ / "token").string();
  std::ofstream(c.token_file) << "  \n";
  AuthProvider auth(ioc_, c, clock_);
  auto r = run_one(auth);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("is empty"), std::string::npos) << r.error();

  std::ofstream(c.token_file) << "tok-1\n";
  r = run_one(auth);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->token, "tok-1");

  std::ofstream(c.token_file, std::ios::trunc).flush();  // a rotation half way
  clock_.advance(std::chrono::minutes{10});
  r = run_one(auth);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->token, "tok-1");
}

}  // namespace
}  // namespace canary_guard::kube
