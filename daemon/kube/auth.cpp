#include "daemon/kube/auth.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace canary_guard::kube {

namespace {
constexpr auto kTokenFileRefresh = std::chrono::seconds{60};
constexpr auto kExecTimeout = std::chrono::seconds{30};
constexpr std::size_t kExecMaxOutput = 1u << 20;

std::string trim(std::string s) {
  auto is_ws = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && is_ws(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && is_ws(s[i])) ++i;
  return s.substr(i);
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

AuthProvider::AuthProvider(const Credentials& creds, const Clock& clock)
    : clock_(clock), static_token_(creds.token), token_file_(creds.token_file), exec_(creds.exec),
      server_(creds.server) {}

void AuthProvider::invalidate() { have_cached_ = false; }

Expected<AuthInfo, std::string> AuthProvider::current() {
  auto now = clock_.now();
  if (!token_file_.empty()) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(token_file_, ec);
    if (!have_cached_ || now >= expires_ || (!ec && mtime != file_mtime_)) {
      std::ifstream in(token_file_);
      if (!in) {
        // Keep a token we already have: a rotation may be renaming the file right now.
        if (have_cached_) return cached_;
        return unexpected("cannot read token file " + token_file_);
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      cached_ = AuthInfo{trim(ss.str()), {}, {}};
      file_mtime_ = mtime;
      expires_ = now + kTokenFileRefresh;
      have_cached_ = true;
    }
    return cached_;
  }
  if (exec_) {
    if (!have_cached_ || now >= expires_) {
      auto r = run_exec();
      if (!r) return unexpected(r.error());
    }
    return cached_;
  }
  return AuthInfo{static_token_, {}, {}};
}

Expected<Ok, std::string> AuthProvider::run_exec() {
  // Runs synchronously on the client's thread, as kubectl does; the plugin is bounded by kExecTimeout.
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return unexpected(std::string("exec plugin: pipe failed"));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> argv_s{exec_->command};
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
  int rc = posix_spawnp(&pid, exec_->command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    return unexpected("exec plugin " + exec_->command + ": " + std::strerror(rc));
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + kExecTimeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) {
      timed_out = pr == 0;
      break;
    }
    char buf[4096];
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kExecMaxOutput) break;
  }
  close(out_pipe[0]);
  if (timed_out || out.size() > kExecMaxOutput) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return unexpected("exec plugin " + exec_->command + " timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return unexpected("exec plugin " + exec_->command + " failed with status " + std::to_string(status));
  auto parsed = parse_exec_credential(out);
  if (!parsed) return unexpected(parsed.error());
  cached_ = std::move(parsed->info);
  // No expiry: cache until a 401 invalidates it (as client-go does).
  expires_ = parsed->expires ? *parsed->expires : TimePoint::max();
  have_cached_ = true;
  return Ok{};
}

}  // namespace canary_guard::kube
