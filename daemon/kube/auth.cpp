#include "daemon/kube/auth.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace canary_guard::kube {

namespace {
namespace asio = boost::asio;

constexpr auto kTokenFileRefresh = std::chrono::seconds{60};
constexpr std::size_t kExecMaxOutput = 1u << 20;  // stdout: an ExecCredential is a few KiB
constexpr std::size_t kExecMaxStderr = 64u << 10;  // kept for the error message; the rest is drained
constexpr std::size_t kExecMaxErrorLine = 512;

std::string trim(std::string s) {
  auto is_ws = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && is_ws(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && is_ws(s[i])) ++i;
  return s.substr(i);
}

// First non-empty line of a plugin's stderr, trimmed and cut to a sane length for an error message.
std::string first_line(const std::string& text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    auto line = trim(text.substr(pos, end - pos));
    if (!line.empty()) return line.size() > kExecMaxErrorLine ? line.substr(0, kExecMaxErrorLine) + "..." : line;
    pos = end + 1;
  }
  return {};
}

// One plugin process: its pipes, its deadline, and the promise that it is reaped. Shared by the coroutines that
// read it and the deadline handler, so none of them outlives what it touches.
struct Child {
  explicit Child(const asio::any_io_executor& ex) : out(ex), err(ex), deadline(ex), done(ex) {
    done.expires_at(std::chrono::steady_clock::time_point::max());
  }
  ~Child() {
    // Only when the coroutine was torn down mid-run (io_context destroyed): kill and reap now. After SIGKILL the
    // wait is short, and there is no io thread left to block.
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      int st = 0;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
  void close_pipes() {
    boost::system::error_code ec;
    out.close(ec);
    err.close(ec);
  }

  pid_t pid = -1;
  bool reaped = false;
  bool timed_out = false;
  bool too_large = false;
  int status = 0;
  int open_pipes = 0;
  std::string stdout_text, stderr_text;
  asio::posix::stream_descriptor out, err;
  asio::steady_timer deadline;
  asio::steady_timer done;  // a condition: cancelled each time a pipe reader finishes
};

// Reads one pipe to EOF (or until it is closed on timeout). stdout over its bound kills the plugin; stderr past
// its bound is read and dropped so the plugin never blocks on a full pipe.
asio::awaitable<void> read_pipe(std::shared_ptr<Child> child, bool is_stdout) {
  auto& sd = is_stdout ? child->out : child->err;
  auto& text = is_stdout ? child->stdout_text : child->stderr_text;
  const std::size_t limit = is_stdout ? kExecMaxOutput : kExecMaxStderr;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await sd.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0 && text.size() < limit + 1) text.append(buf, std::min(n, limit + 1 - text.size()));
    if (is_stdout && text.size() > limit) {
      child->too_large = true;
      if (!child->reaped) ::kill(child->pid, SIGKILL);
      child->close_pipes();  // the plugin's own children may hold the write ends: do not wait for them
      break;
    }
    if (ec) break;  // eof, or closed by the deadline
  }
  if (text.size() > limit) text.resize(limit);
}

}  // namespace


Expected<ExecResult, std::string> parse_exec_credential(std::string_view json) {
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(std::string("exec plugin output is not JSON"));
  auto st = j.find("status");
  if (st == j.end() || !st->is_object()) return unexpected(std::string("exec plugin output has no status"));
  ExecResult r;
  auto get = [&](const char* k) -> std::string {
    auto it = st->find(k);
    return it != st->end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  r.info.token = get("token");
  r.info.client_cert_pem = get("clientCertificateData");
  r.info.client_key_pem = get("clientKeyData");
  if (r.info.token.empty() && (r.info.client_cert_pem.empty() || r.info.client_key_pem.empty()))
    return unexpected(std::string("exec plugin returned neither a token nor a client certificate and key"));
  if (auto e = get("expirationTimestamp"); !e.empty()) {
    r.expires = parse_rfc3339(e);
    if (!r.expires) return unexpected("exec plugin: bad expirationTimestamp " + e);
  }
  return r;
}

// The run in progress: later callers wait on `done` (a timer used as a condition) for its result.
struct AuthProvider::ExecRun {
  explicit ExecRun(asio::io_context& ioc) : done(ioc) { done.expires_at(std::chrono::steady_clock::time_point::max()); }
  asio::steady_timer done;
  bool finished = false;
  Expected<AuthInfo, std::string> result = unexpected(std::string("exec plugin did not finish"));
};

AuthProvider::AuthProvider(asio::io_context& ioc, const Credentials& creds, const Clock& clock, AuthOptions options)
    : ioc_(ioc), options_(options), clock_(clock), static_token_(creds.token), token_file_(creds.token_file),
      exec_(creds.exec), server_(creds.server) {}

AuthProvider::~AuthProvider() = default;

void AuthProvider::invalidate() { have_cached_ = false; }

asio::awaitable<Expected<AuthInfo, std::string>> AuthProvider::current() {
  auto now = clock_.now();
  if (!token_file_.empty()) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(token_file_, ec);
    if (!have_cached_ || now >= expires_ || (!ec && mtime != file_mtime_)) {
      std::ifstream in(token_file_);
      if (!in) {
        // Keep a token we already have: a rotation may be renaming the file right now.
        if (have_cached_) co_return cached_;
        co_return unexpected("cannot read token file " + token_file_);
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string token = trim(ss.str());
      if (token.empty()) {
        // As client-go: an empty token file is an error, never a request without authorization. A token we
        // already have is kept while a rotation may be rewriting the file.
        if (have_cached_) co_return cached_;
        co_return unexpected("token file " + token_file_ + " is empty");
      }
      cached_ = AuthInfo{std::move(token), {}, {}};
      file_mtime_ = mtime;
      expires_ = now + kTokenFileRefresh;
      have_cached_ = true;
    }
    co_return cached_;
  }
  if (!exec_) co_return AuthInfo{static_token_, {}, {}};
  if (have_cached_ && now < expires_) co_return cached_;
  if (exec_error_ && now < exec_retry_at_) {
    // A plugin that just failed (an expired login, a missing binary) fails the same way for a while: do not spawn
    // it for every request and watch, and do not hammer the identity provider behind it.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(exec_retry_at_ - now);
    co_return unexpected(*exec_error_ + " (next try in " + std::to_string((left.count() + 999) / 1000) + " s)");
  }

  if (auto run = running_) {  // one plugin at a time: wait for the one already running
    while (!run->finished) {
      boost::system::error_code ec;
      co_await run->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return run->result;
  }
  auto run = std::make_shared<ExecRun>(ioc_);
  running_ = run;
  try {
    run->result = co_await run_exec();
  } catch (const std::exception& e) {
    run->result = unexpected("exec plugin " + exec_->command + ": " + e.what());
  }
  if (run->result) {
    exec_error_.reset();
    exec_backoff_ = std::chrono::milliseconds{0};
  } else {
    exec_error_ = run->result.error();
    if (exec_backoff_.count() == 0) exec_backoff_ = options_.exec_backoff_min;
    const double f = std::uniform_real_distribution<double>(0.8, 1.0)(rng_);
    exec_retry_at_ = clock_.now() + std::chrono::milliseconds{
                                        static_cast<long long>(static_cast<double>(exec_backoff_.count()) * f)};
    exec_backoff_ = std::min(options_.exec_backoff_max, exec_backoff_ * 2);
  }
  // Whatever happened, release the waiters.
  run->finished = true;
  running_.reset();
  run->done.cancel();
  co_return run->result;
}

asio::awaitable<Expected<AuthInfo, std::string>> AuthProvider::run_exec() {
  const std::string& command = exec_->command;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) co_return unexpected(std::string("exec plugin: pipe failed"));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    co_return unexpected(std::string("exec plugin: pipe failed"));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> argv_s{command};
  argv_s.insert(argv_s.end(), exec_->args.begin(), exec_->args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  nlohmann::json info = {{"apiVersion", exec_->api_version},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", false}}}};
  std::vector<std::string> env_s;
  for (char** e = environ; e && *e; ++e) env_s.emplace_back(*e);
  for (const auto& [k, v] : exec_->env) env_s.push_back(k + "=" + v);
  env_s.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    co_return unexpected("exec plugin " + command + ": " + std::strerror(rc));
  }

  auto ex = co_await asio::this_coro::executor;
  auto child = std::make_shared<Child>(ex);
  child->pid = pid;
  child->out.assign(out_pipe[0]);
  child->err.assign(err_pipe[0]);

  // The deadline covers reading and reaping: a plugin that closes stdout and lingers is killed too.
  child->deadline.expires_after(options_.exec_timeout);
  child->deadline.async_wait([weak = std::weak_ptr<Child>(child)](const boost::system::error_code& ec) {
    auto c = weak.lock();
    if (ec || !c || c->reaped) return;
    c->timed_out = true;
    ::kill(c->pid, SIGKILL);
    c->close_pipes();  // a grandchild may still hold the write ends: stop waiting for their EOF
  });

  child->open_pipes = 2;
  for (const bool is_stdout : {true, false}) {
    asio::co_spawn(ex, read_pipe(child, is_stdout), [child](std::exception_ptr) {
      // read_pipe reports errors through redirect_error; an exception here can only be bad_alloc. Either way
      // the pipe is finished.
      --child->open_pipes;
      child->done.cancel();
    });
  }
  while (child->open_pipes > 0) {
    boost::system::error_code ec;
    co_await child->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  child->close_pipes();

  // Reap without blocking the io thread: poll waitpid(WNOHANG) on a short timer. A well-behaved plugin has
  // exited by the time its pipes close; one that has not is killed by the deadline.
  asio::steady_timer poll(ex);
  auto wait = std::chrono::milliseconds{1};
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      child->reaped = true;
      child->status = st;
      break;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {  // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN); nothing left to wait for
      child->reaped = true;
      child->status = -1;
      break;
    }
    poll.expires_after(wait);
    boost::system::error_code ec;
    co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    wait = std::min(wait * 2, std::chrono::milliseconds{50});
  }
  child->deadline.cancel();

  if (child->timed_out) co_return unexpected("exec plugin " + command + " timed out");
  if (child->too_large)
    co_return unexpected("exec plugin " + command + ": output exceeds " + std::to_string(kExecMaxOutput) + " bytes");
  const int st = child->status;
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    std::string msg = "exec plugin " + command + " failed with status ";
    if (st != -1 && WIFEXITED(st)) msg += std::to_string(WEXITSTATUS(st));
    else if (st != -1 && WIFSIGNALED(st)) msg += "signal " + std::to_string(WTERMSIG(st));
    else msg += "unknown";
    if (auto line = first_line(child->stderr_text); !line.empty()) msg += ": " + line;
    co_return unexpected(std::move(msg));
  }
  auto parsed = parse_exec_credential(child->stdout_text);
  if (!parsed) co_return unexpected(parsed.error());
  cached_ = std::move(parsed->info);
  // No expiry: cache until a 401 invalidates it (as client-go does).
  expires_ = parsed->expires ? *parsed->expires : TimePoint::max();
  have_cached_ = true;
  co_return cached_;
}

}  // namespace canary_guard::kube
