#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "daemon/kube/auth.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/kubeconfig.hpp"

namespace canary_guard::kube {
namespace {

namespace fs = std::filesystem;

// AuthProvider::current() is a coroutine; these tests drive it to completion on the test's io_context.
Expected<AuthInfo, std::string> current_now(boost::asio::io_context& ioc, AuthProvider& auth) {
  std::optional<Expected<AuthInfo, std::string>> out;
  boost::asio::co_spawn(
      ioc, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await auth.current()); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ioc.restart();
  ioc.run();
  if (!out) return unexpected(std::string("current() did not complete"));
  return std::move(*out);
}

// base64("CA-PEM") and friends: the loader does not parse PEM, the client does.
constexpr const char* kCaB64 = "Q0EtUEVN";      // CA-PEM
constexpr const char* kCertB64 = "Q0VSVA==";    // CERT
constexpr const char* kKeyB64 = "S0VZ";         // KEY

class Kubeconfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg-kubeconfig-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& rel, const std::string& text) {
    auto p = dir_ / rel;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

std::string simple(const std::string& cluster_extra, const std::string& user_body, const std::string& ctx = "dev") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + ctx +
         "\nclusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n" + cluster_extra +
         "contexts:\n- name: dev\n  context:\n    cluster: c1\n    user: u1\n    namespace: shop\n"
         "users:\n- name: u1\n  user:\n" +
         user_body;
}

TEST_F(Kubeconfig, InlineData) {
  auto p = write("config", simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n",
                                  std::string("    client-certificate-data: ") + kCertB64 +
                                      "\n    client-key-data: " + kKeyB64 + "\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, "6443");
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->ns, "shop");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
}

TEST_F(Kubeconfig, RelativeFilePathsResolveAgainstTheFilesDirectory) {
  write("sub/ca.crt", "FILE-CA");
  write("sub/token", "  tok-from-file\n");
  auto p = write("sub/config", simple("    certificate-authority: ca.crt\n", "    tokenFile: token\n    token: static\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ca_pem, "FILE-CA");
  EXPECT_EQ(c->token_file, (dir_ / "sub/token").string());
  EXPECT_EQ(c->token, "static");
  ManualClock clock;
  boost::asio::io_context ioc;
  AuthProvider auth(ioc, *c, clock);
  auto a = current_now(ioc, auth);
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->token, "tok-from-file");  // tokenFile wins over token, trimmed
}

TEST_F(Kubeconfig, DataWinsOverFile) {
  auto p = write("config", simple(std::string("    certificate-authority: /nonexistent\n    certificate-authority-data: ") +
                                      kCaB64 + "\n",
                                  "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ca_pem, "CA-PEM");
}

TEST_F(Kubeconfig, MissingCaFileNamesFile) {
  auto p = write("config", simple("    certificate-authority: missing.crt\n", "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("missing.crt"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find(p), std::string::npos) << c.error();
}

TEST_F(Kubeconfig, InsecureWithCaIsAnError) {
  auto p = write("config", simple(std::string("    insecure-skip-tls-verify: true\n    certificate-authority-data: ") +
                                      kCaB64 + "\n",
                                  "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("insecure-skip-tls-verify"), std::string::npos);
}

TEST_F(Kubeconfig, InsecureWithoutCaIsAllowed) {
  auto p = write("config", simple("    insecure-skip-tls-verify: true\n", "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_TRUE(c->ca_pem.empty());
}

TEST_F(Kubeconfig, NoCaAndNotInsecureIsAnError) {
  auto p = write("config", simple("", "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("certificate-authority"), std::string::npos);
}

TEST_F(Kubeconfig, MissingContext) {
  auto p = write("config", simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n", "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "prod");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("context \"prod\" not found"), std::string::npos) << c.error();
  auto none = write("none", "apiVersion: v1\nkind: Config\nclusters: []\n");
  auto c2 = load_kubeconfig(std::vector<std::string>{none}, "");
  ASSERT_FALSE(c2);
  EXPECT_NE(c2.error().find("current-context"), std::string::npos);
}

TEST_F(Kubeconfig, MissingUserAndCluster) {
  auto text = simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n", "    token: t\n");
  auto p1 = write("a", std::string(text).replace(text.find("user: u1"), 8, "user: zz"));
  auto c = load_kubeconfig(std::vector<std::string>{p1}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("user \"zz\" not found"), std::string::npos) << c.error();
  auto p2 = write("b", std::string(text).replace(text.find("cluster: c1"), 11, "cluster: zz"));
  c = load_kubeconfig(std::vector<std::string>{p2}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("cluster \"zz\" not found"), std::string::npos) << c.error();
}

TEST_F(Kubeconfig, MultipleFilesFirstWins) {
  // File A: current-context and user; file B: a different definition of u1 (ignored), the cluster and context.
  auto a = write("a", "current-context: dev\nusers:\n- name: u1\n  user:\n    token: from-a\n");
  auto b = write("sub/b", std::string("current-context: other\nclusters:\n- name: c1\n  cluster:\n    server: "
                                      "https://[::1]:7443\n    certificate-authority: ca.crt\n"
                                      "contexts:\n- name: dev\n  context:\n    cluster: c1\n    user: u1\n"
                                      "users:\n- name: u1\n  user:\n    token: from-b\n"));
  write("sub/ca.crt", "CA-B");
  auto c = load_kubeconfig(a + ":" + b + ":" + (dir_ / "does-not-exist").string(), "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "from-a");
  EXPECT_EQ(c->ca_pem, "CA-B");  // relative to b's directory
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "7443");
  EXPECT_EQ(c->ns, "default");
}

TEST_F(Kubeconfig, KubeconfigEnvironmentVariable) {
  auto p = write("config", simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n", "    token: env\n"));
  const char* old = std::getenv("KUBECONFIG");
  std::string saved = old ? old : "";
  setenv("KUBECONFIG", p.c_str(), 1);
  auto c = load_kubeconfig(std::vector<std::string>{}, "");
  if (old) setenv("KUBECONFIG", saved.c_str(), 1);
  else unsetenv("KUBECONFIG");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "env");
}

TEST_F(Kubeconfig, InvalidYamlAndBadBase64) {
  auto p = write("config", "clusters: [\n  - {name: x");
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("invalid YAML"), std::string::npos) << c.error();
  auto q = write("q", simple("    certificate-authority-data: '!!!'\n", "    token: t\n"));
  c = load_kubeconfig(std::vector<std::string>{q}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("base64"), std::string::npos) << c.error();
  auto r = write("r", "- just\n- a list\n");
  EXPECT_FALSE(load_kubeconfig(std::vector<std::string>{r}, ""));
  EXPECT_FALSE(load_kubeconfig(std::vector<std::string>{(dir_ / "nope").string()}, ""));
}

TEST_F(Kubeconfig, CertWithoutKey) {
  auto p = write("config", simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n",
                                  std::string("    client-certificate-data: ") + kCertB64 + "\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("client-key"), std::string::npos);
}

TEST_F(Kubeconfig, ExecPlugin) {
  write("sub/plugin.sh",
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
        "\"status\":{\"token\":\"'$CG_TOKEN'\",\"expirationTimestamp\":\"2023-11-14T22:15:00Z\"}}'\n");
  fs::permissions(dir_ / "sub/plugin.sh", fs::perms::owner_all);
  auto p = write("sub/config", simple(std::string("    certificate-authority-data: ") + kCaB64 + "\n",
                                      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                                      "      command: ./plugin.sh\n      env:\n      - name: CG_TOKEN\n"
                                      "        value: exec-tok\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  ASSERT_TRUE(c->exec);
  EXPECT_EQ(c->exec->command, (dir_ / "sub/plugin.sh").string());
  ManualClock clock(*parse_rfc3339("2023-11-14T22:00:00Z"));
  boost::asio::io_context ioc;
  AuthProvider auth(ioc, *c, clock);
  auto a = current_now(ioc, auth);
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->token, "exec-tok");
  // Cached until it expires; after expiry the plugin runs again (same output here).
  write("sub/plugin.sh", "#!/bin/sh\nexit 3\n");
  EXPECT_TRUE(current_now(ioc, auth));
  clock.advance(std::chrono::minutes{20});
  auto b = current_now(ioc, auth);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().find("failed"), std::string::npos);
}

TEST(ExecCredential, Parse) {
  auto r = parse_exec_credential(R"({"status":{"clientCertificateData":"C","clientKeyData":"K"}})");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->info.client_cert_pem, "C");
  EXPECT_FALSE(r->expires);
  EXPECT_FALSE(parse_exec_credential(R"({"status":{}})"));
  EXPECT_FALSE(parse_exec_credential("nope"));
  EXPECT_FALSE(parse_exec_credential(R"({"status":{"token":"t","expirationTimestamp":"yesterday"}})"));
}

TEST(Rfc3339, Parse) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z")->time_since_epoch().count(), 0);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20Z")->time_since_epoch().count(), 1'700'000'000'000);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.123456Z")->time_since_epoch().count(), 1'700'000'000'123);
  EXPECT_EQ(parse_rfc3339("2023-11-15T00:13:20+02:00")->time_since_epoch().count(), 1'700'000'000'000);
  EXPECT_FALSE(parse_rfc3339(""));
  EXPECT_FALSE(parse_rfc3339("2023-11-14T22:13:20"));
  EXPECT_FALSE(parse_rfc3339("2023-13-14T22:13:20Z"));
  EXPECT_FALSE(parse_rfc3339("2023-11-14T22:13:20Zjunk"));
  EXPECT_FALSE(parse_rfc3339("2023-11-14T22:13:20.Z"));
}

TEST(ServerUrl, Parse) {
  EXPECT_EQ(parse_server_url("https://h")->second, "443");
  EXPECT_EQ(parse_server_url("https://h:1/prefix")->first, "h");
  EXPECT_EQ(parse_server_url("https://[fe80::1]:8443")->first, "fe80::1");
  EXPECT_FALSE(parse_server_url("http://h"));
  EXPECT_FALSE(parse_server_url("https://h:x"));
  EXPECT_FALSE(parse_server_url("https://"));
  EXPECT_FALSE(parse_server_url("https://[::1"));
}

TEST(InCluster, ReadsServiceAccountFiles) {
  auto dir = fs::temp_directory_path() / ("cg-sa-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::ofstream(dir / "token") << "sa-token\n";
  std::ofstream(dir / "ca.crt") << "CA";
  std::ofstream(dir / "namespace") << "guard\n";
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  unsetenv("POD_NAMESPACE");
  auto c = in_cluster_credentials(dir.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://[fd00::1]:443");
  EXPECT_EQ(c->ns, "guard");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->token_file, (dir / "token").string());
  EXPECT_FALSE(in_cluster_credentials(dir.string()));  // env gone
  fs::remove_all(dir);
}

TEST(TokenFile, RereadAfterSixtySeconds) {
  auto dir = fs::temp_directory_path() / ("cg-tok-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::ofstream(dir / "token") << "one";
  Credentials c;
  c.token_file = (dir / "token").string();
  ManualClock clock;
  boost::asio::io_context ioc;
  AuthProvider auth(ioc, c, clock);
  EXPECT_EQ(current_now(ioc, auth)->token, "one");
  // Same mtime granularity may hide the change: the 60 s refresh must still pick it up.
  auto mtime = fs::last_write_time(dir / "token");
  std::ofstream(dir / "token") << "two";
  fs::last_write_time(dir / "token", mtime);
  EXPECT_EQ(current_now(ioc, auth)->token, "one");
  clock.advance(std::chrono::seconds{61});
  EXPECT_EQ(current_now(ioc, auth)->token, "two");
  fs::remove(dir / "token");
  EXPECT_EQ(current_now(ioc, auth)->token, "two");  // keep the last token while the file is being rotated
  fs::remove_all(dir);
}

TEST_F(Kubeconfig, ProxyUrlIsRefusedAtStartWithAClearError) {
  auto p = write("config", simple(std::string("    certificate-authority-data: ") + kCaB64 +
                                      "\n    proxy-url: http://proxy.corp:3128\n",
                                  "    token: t\n"));
  auto c = load_kubeconfig(std::vector<std::string>{p}, "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->proxy_url, "http://proxy.corp:3128");
  auto none = [](const char*) -> const char* { return nullptr; };
  auto r = check_no_proxy(*c, none);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("proxy-url http://proxy.corp:3128"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("does not use proxies"), std::string::npos) << r.error();
  // Client::make refuses it too (what the daemon calls at start).
  boost::asio::io_context ioc;
  c->ca_pem.clear();
  c->insecure_skip_tls_verify = true;
  auto made = Client::make(ioc, *c);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("proxy-url"), std::string::npos) << made.error();
}

TEST(Proxy, HttpsProxyFromTheEnvironmentIsRefusedUnlessNoProxyCoversTheServer) {
  struct Case {
    const char* name;
    std::string host, port;
    std::map<std::string, std::string> env;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"no proxy set", "api.corp", "6443", {}, true},
      {"HTTP_PROXY alone does not apply to https", "api.corp", "6443", {{"HTTP_PROXY", "http://p:1"}}, true},
      {"HTTPS_PROXY", "api.corp", "6443", {{"HTTPS_PROXY", "http://p:1"}}, false},
      {"https_proxy (lower case)", "api.corp", "6443", {{"https_proxy", "http://p:1"}}, false},
      {"empty HTTPS_PROXY is unset", "api.corp", "6443", {{"HTTPS_PROXY", ""}}, true},
      {"loopback is never proxied", "127.0.0.1", "6443", {{"HTTPS_PROXY", "http://p:1"}}, true},
      {"localhost is never proxied", "localhost", "6443", {{"HTTPS_PROXY", "http://p:1"}}, true},
      {"NO_PROXY *", "api.corp", "6443", {{"HTTPS_PROXY", "http://p:1"}, {"NO_PROXY", "*"}}, true},
      {"NO_PROXY exact host", "api.corp", "6443", {{"HTTPS_PROXY", "http://p:1"}, {"NO_PROXY", "x, api.corp"}}, true},
      {"NO_PROXY domain suffix", "k8s.api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", ".api.corp"}}, true},
      {"NO_PROXY bare domain covers sub-domains", "k8s.api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "api.corp"}}, true},
      {"NO_PROXY suffix needs a dot boundary", "myapi.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "api.corp"}}, false},
      {"no_proxy (lower case)", "api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"no_proxy", "api.corp"}}, true},
      {"NO_PROXY host:port matching", "api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "api.corp:6443"}}, true},
      {"NO_PROXY host:port other port", "api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "api.corp:443"}}, false},
      {"NO_PROXY CIDR", "10.96.0.1", "443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "10.96.0.0/12"}}, true},
      {"NO_PROXY CIDR outside", "10.128.0.1", "443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "10.96.0.0/12"}}, false},
      {"NO_PROXY IP", "10.0.0.7", "443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "10.0.0.7"}}, true},
      {"NO_PROXY other names only", "api.corp", "6443", {{"HTTPS_PROXY", "p"}, {"NO_PROXY", "a.corp,b.corp"}}, false},
  };
  for (const auto& c : cases) {
    Credentials cr;
    cr.server = "https://" + c.host + ":" + c.port;
    cr.host = c.host;
    cr.port = c.port;
    auto env = [&](const char* n) -> const char* {
      auto it = c.env.find(n);
      return it == c.env.end() ? nullptr : it->second.c_str();
    };
    auto r = check_no_proxy(cr, env);
    EXPECT_EQ(static_cast<bool>(r), c.ok) << c.name << (r ? "" : ": " + r.error());
    if (!r) {
      EXPECT_NE(r.error().find("add " + c.host + " to NO_PROXY"), std::string::npos) << r.error();
    }
  }
}

}  // namespace
}  // namespace canary_guard::kube
