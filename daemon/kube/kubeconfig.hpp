#pragma once
// Where the API server is and who we are: kubeconfig files (as kubectl reads them) or the in-cluster service
// account. Loading is a start-up step; errors are returned as text naming the file and what is missing.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/expected.hpp"

namespace canary_guard::kube {

// An exec credential plugin (client.authentication.k8s.io/v1beta1 or v1).
struct ExecSpec {
  std::string command;  // resolved against the kubeconfig's directory when it contains a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;
};

struct Credentials {
  std::string server;  // as written, e.g. https://127.0.0.1:6443
  std::string host;    // without brackets for IPv6
  std::string port = "443";
  std::string ca_pem;  // empty only when insecure_skip_tls_verify
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides SNI and the name the certificate is verified against
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // wins over token; re-read when it changes and at least every 60 s
  std::optional<ExecSpec> exec;
  std::string proxy_url;       // the cluster's proxy-url (refused: check_no_proxy)
  std::string ns = "default";  // context namespace (or the service account's)
  std::string source;          // "kubeconfig /path context=x" for logs; never secrets
};

// paths: files to merge, first one wins each name; empty = $KUBECONFIG (':'-separated) or ~/.kube/config.
// context: "" = current-context.
Expected<Credentials, std::string> load_kubeconfig(const std::vector<std::string>& paths = {},
                                                   const std::string& context = {});
// Convenience: a single path or "" (for the default search), as a ':'-separated list like KUBECONFIG.
Expected<Credentials, std::string> load_kubeconfig(const std::string& path_list, const std::string& context);

// In-cluster service account. root defaults to /var/run/secrets/kubernetes.io/serviceaccount (tests pass a dir).
Expected<Credentials, std::string> in_cluster_credentials(
    const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// canary-guard connects to the API server directly; it does not speak to HTTP proxies. Where kubectl would go
// through one (the cluster's proxy-url, or HTTPS_PROXY / https_proxy not bypassed for the server's host by NO_PROXY /
// no_proxy, with Go's rules: "*", a host or domain suffix, an IP or CIDR, loopback never proxied), the daemon
// refuses to start with this error instead of silently going direct. `getenv` is ::getenv outside tests.
Expected<bool, std::string> check_no_proxy(const Credentials& c, const std::function<const char*(const char*)>& getenv);

// Splits https://host:port (IPv6 in brackets) into host and port. Error text on a bad URL.
Expected<std::pair<std::string, std::string>, std::string> parse_server_url(const std::string& url);

}  // namespace canary_guard::kube
