#include "daemon/kube/kubeconfig.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/ip/address.hpp>

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

namespace canary_guard::kube {

namespace fs = std::filesystem;

namespace {

using Err = std::string;

// A kubeconfig is small; anything beyond this is not a kubeconfig.
constexpr std::uintmax_t kMaxFileBytes = 4u << 20;

Expected<std::string, Err> read_file(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return unexpected(path + ": cannot read: " + ec.message());
  if (size > kMaxFileBytes) return unexpected(path + ": file too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Expected<std::string, Err> base64_decode(const std::string& in) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in)
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
  if (clean.size() % 4 != 0) return unexpected(Err("invalid base64 length"));
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return unexpected(Err("invalid base64"));
  std::size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::string expand_home(const std::string& p) {
  if (p.rfind("~/", 0) == 0) {
    if (const char* home = std::getenv("HOME")) return std::string(home) + p.substr(1);
  }
  return p;
}

struct Entry {
  YAML::Node node;   // the inner map (cluster:, user:, context:)
  std::string file;  // defining file, for relative paths and messages
};

std::string str(const YAML::Node& n, const char* key) {
  auto v = n[key];
  if (!v || !v.IsScalar()) return {};
  return v.as<std::string>();
}

bool boolean(const YAML::Node& n, const char* key) {
  auto v = n[key];
  if (!v || !v.IsScalar()) return false;
  auto s = v.as<std::string>();
  return s == "true" || s == "True" || s == "TRUE" || s == "yes";
}

// Reads `<key>-data` (base64, wins) or `<key>` (a file path relative to the defining file).
Expected<std::string, Err> data_or_file(const Entry& e, const std::string& key, const std::string& what) {
  if (auto d = str(e.node, (key + "-data").c_str()); !d.empty()) {
    auto decoded = base64_decode(d);
    if (!decoded) return unexpected(e.file + ": " + what + " " + key + "-data: " + decoded.error());
    return std::move(*decoded);
  }
  if (auto p = str(e.node, key.c_str()); !p.empty()) {
    auto content = read_file(resolve(fs::path(e.file).parent_path().string(), expand_home(p)));
    if (!content) return unexpected(e.file + ": " + what + " " + key + ": " + content.error());
    return std::move(*content);
  }
  return std::string{};
}

}  // namespace

namespace {

// Go's net/http/httpproxy (useProxy): does NO_PROXY exempt host:port from the proxy?
bool no_proxy_matches(std::string host, const std::string& port, const std::string& no_proxy) {
  for (auto& ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  if (host == "localhost" || (is_ip && ip.is_loopback())) return true;
  std::size_t pos = 0;
  while (pos <= no_proxy.size()) {
    const auto end = std::min(no_proxy.find(',', pos), no_proxy.size());
    std::string e = no_proxy.substr(pos, end - pos);
    pos = end + 1;
    while (!e.empty() && e.front() == ' ') e.erase(0, 1);
    while (!e.empty() && e.back() == ' ') e.pop_back();
    for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (e.empty()) continue;
    if (e == "*") return true;
    if (auto slash = e.find('/'); slash != std::string::npos) {  // CIDR
      if (!is_ip) continue;
      boost::system::error_code nec;
      const auto net = boost::asio::ip::make_address(e.substr(0, slash), nec);
      if (nec || net.is_v4() != ip.is_v4()) continue;
      int bits = -1;
      try {
        bits = std::stoi(e.substr(slash + 1));
      } catch (...) {
        continue;
      }
      auto bytes_of = [](const boost::asio::ip::address& a) {
        std::vector<unsigned char> b;
        if (a.is_v4()) {
          auto x = a.to_v4().to_bytes();
          b.assign(x.begin(), x.end());
        } else {
          auto x = a.to_v6().to_bytes();
          b.assign(x.begin(), x.end());
        }
        return b;
      };
      const auto hb = bytes_of(ip), nb = bytes_of(net);
      if (bits < 0 || bits > static_cast<int>(hb.size() * 8)) continue;
      bool in = true;
      for (int i = 0; i < bits && in; ++i) {
        const unsigned char m = static_cast<unsigned char>(0x80u >> (i % 8));
        in = (hb[i / 8] & m) == (nb[i / 8] & m);
      }
      if (in) return true;
      continue;
    }
    std::string eport;
    if (auto colon = e.rfind(':'); colon != std::string::npos && e.find(':') == colon) {  // host:port (not IPv6)
      eport = e.substr(colon + 1);
      e = e.substr(0, colon);
    }
    if (!eport.empty() && eport != port) continue;
    if (e.front() == '[' && e.back() == ']') e = e.substr(1, e.size() - 2);
    if (is_ip) {
      boost::system::error_code eec;
      const auto eip = boost::asio::ip::make_address(e, eec);
      if (!eec && eip == ip) return true;
      continue;
    }
    if (e.front() == '.') e.erase(0, 1);  // ".example.com" and "example.com" both cover sub-domains
    if (host == e || (host.size() > e.size() && host.compare(host.size() - e.size(), e.size(), e) == 0 &&
                      host[host.size() - e.size() - 1] == '.'))
      return true;
  }
  return false;
}

}  // namespace

Expected<bool, std::string> check_no_proxy(const Credentials& c, const std::function<const char*(const char*)>& getenv) {
  if (!c.proxy_url.empty())
    return unexpected("the kubeconfig's cluster for " + c.server + " sets proxy-url " + c.proxy_url +
                      ": canary-guard connects to the API server directly and does not use proxies; remove "
                      "proxy-url or give canary-guard a kubeconfig without it");
  auto env = [&](const char* a, const char* b) -> std::pair<std::string, std::string> {
    for (const char* n : {a, b})
      if (const char* v = getenv(n); v && *v) return {n, v};
    return {};
  };
  const auto [proxy_var, proxy] = env("HTTPS_PROXY", "https_proxy");
  if (proxy.empty()) return true;
  const auto [no_var, no_proxy] = env("NO_PROXY", "no_proxy");
  if (no_proxy_matches(c.host, c.port, no_proxy)) return true;
  return unexpected(proxy_var + " is set (" + proxy + ") and " + (no_var.empty() ? std::string("NO_PROXY") : no_var) +
                    " does not cover " + c.host + ": kubectl would reach the API server through that proxy, but "
                    "canary-guard connects directly and does not use proxies; unset " + proxy_var + " or add " +
                    c.host + " to NO_PROXY");
}

Expected<std::pair<std::string, std::string>, std::string> parse_server_url(const std::string& url) {
  std::string rest = url;
  std::string default_port = "443";
  if (rest.rfind("https://", 0) == 0) {
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    return unexpected("server " + url + ": plain http is not supported");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (rest.empty()) return unexpected("server " + url + ": no host");
  std::string host, port = default_port;
  if (rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return unexpected("server " + url + ": unterminated IPv6 address");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return unexpected("server " + url + ": bad port");
      port = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    } else {
      host = rest;
    }
  }
  if (host.empty()) return unexpected("server " + url + ": no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return unexpected("server " + url + ": bad port");
  return std::make_pair(host, port);
}

Expected<Credentials, std::string> load_kubeconfig(const std::string& path_list, const std::string& context) {
  std::vector<std::string> paths;
  std::string cur;
  for (char c : path_list) {
    if (c == ':') {
      if (!cur.empty()) paths.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) paths.push_back(cur);
  return load_kubeconfig(paths, context);
}

Expected<Credentials, std::string> load_kubeconfig(const std::vector<std::string>& paths_in,
                                                   const std::string& context_in) {
  std::vector<std::string> paths = paths_in;
  bool explicit_paths = !paths.empty();
  if (paths.empty()) {
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
      auto r = load_kubeconfig(std::string(env), context_in);
      return r;
    }
    const char* home = std::getenv("HOME");
    if (!home) return unexpected(std::string("no kubeconfig: KUBECONFIG and HOME are unset"));
    paths.push_back(std::string(home) + "/.kube/config");
    explicit_paths = true;
  }
  (void)explicit_paths;

  std::string current_context;
  std::map<std::string, Entry> clusters, users, contexts;
  std::size_t loaded = 0;
  std::string errors;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      // kubectl ignores missing files in KUBECONFIG; an explicit single file must exist.
      if (paths.size() == 1) return unexpected(path + ": kubeconfig does not exist");
      continue;
    }
    auto text = read_file(path);
    if (!text) return unexpected(text.error());
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return unexpected(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": invalid YAML: " + e.msg);
    }
    ++loaded;
    if (!root || root.IsNull()) continue;
    if (!root.IsMap()) return unexpected(path + ": not a kubeconfig (top level is not a map)");
    try {
      if (current_context.empty()) current_context = str(root, "current-context");
      auto collect = [&](const char* list, const char* inner, std::map<std::string, Entry>& into) -> std::string {
        auto seq = root[list];
        if (!seq) return {};
        if (!seq.IsSequence()) return path + ": " + list + " is not a list";
        for (const auto& item : seq) {
          auto name = str(item, "name");
          if (name.empty()) return path + ": an entry in " + list + " has no name";
          auto body = item[inner];
          if (!body || !body.IsMap()) body = YAML::Node(YAML::NodeType::Map);
          into.emplace(name, Entry{body, path});  // emplace keeps the first definition
        }
        return {};
      };
      for (auto err : {collect("clusters", "cluster", clusters), collect("users", "user", users),
                       collect("contexts", "context", contexts)})
        if (!err.empty()) return unexpected(err);
    } catch (const YAML::Exception& e) {
      return unexpected(path + ": malformed kubeconfig: " + e.msg);
    }
  }
  std::string all_paths;
  for (const auto& p : paths) all_paths += (all_paths.empty() ? "" : ":") + p;
  if (loaded == 0) return unexpected("no kubeconfig found in " + all_paths);

  std::string context_name = context_in.empty() ? current_context : context_in;
  if (context_name.empty()) return unexpected(all_paths + ": no current-context set and no context given");
  auto ctx_it = contexts.find(context_name);
  if (ctx_it == contexts.end()) return unexpected(all_paths + ": context \"" + context_name + "\" not found");
  const Entry& ctx = ctx_it->second;
  auto cluster_name = str(ctx.node, "cluster");
  auto user_name = str(ctx.node, "user");
  if (cluster_name.empty()) return unexpected(ctx.file + ": context \"" + context_name + "\" names no cluster");
  auto cl_it = clusters.find(cluster_name);
  if (cl_it == clusters.end())
    return unexpected(ctx.file + ": context \"" + context_name + "\": cluster \"" + cluster_name + "\" not found");
  const Entry& cluster = cl_it->second;

  Credentials c;
  try {
    c.source = "kubeconfig " + ctx.file + " context=" + context_name;
    c.ns = str(ctx.node, "namespace");
    if (c.ns.empty()) c.ns = "default";
    c.server = str(cluster.node, "server");
    if (c.server.empty()) return unexpected(cluster.file + ": cluster \"" + cluster_name + "\" has no server");
    auto hp = parse_server_url(c.server);
    if (!hp) return unexpected(cluster.file + ": cluster \"" + cluster_name + "\": " + hp.error());
    c.host = hp->first;
    c.port = hp->second;
    c.insecure_skip_tls_verify = boolean(cluster.node, "insecure-skip-tls-verify");
    c.tls_server_name = str(cluster.node, "tls-server-name");
    c.proxy_url = str(cluster.node, "proxy-url");
    auto ca = data_or_file(cluster, "certificate-authority", "cluster \"" + cluster_name + "\"");
    if (!ca) return unexpected(ca.error());
    c.ca_pem = std::move(*ca);
    if (c.insecure_skip_tls_verify && !c.ca_pem.empty())
      return unexpected(cluster.file + ": cluster \"" + cluster_name +
                        "\": insecure-skip-tls-verify together with a certificate authority is not allowed");
    if (!c.insecure_skip_tls_verify && c.ca_pem.empty())
      return unexpected(cluster.file + ": cluster \"" + cluster_name +
                        "\" has no certificate-authority(-data); the system trust store is not used");

    if (!user_name.empty()) {
      auto u_it = users.find(user_name);
      if (u_it == users.end())
        return unexpected(ctx.file + ": context \"" + context_name + "\": user \"" + user_name + "\" not found");
      const Entry& user = u_it->second;
      std::string what = "user \"" + user_name + "\"";
      auto cert = data_or_file(user, "client-certificate", what);
      if (!cert) return unexpected(cert.error());
      auto key = data_or_file(user, "client-key", what);
      if (!key) return unexpected(key.error());
      c.client_cert_pem = std::move(*cert);
      c.client_key_pem = std::move(*key);
      if (c.client_cert_pem.empty() != c.client_key_pem.empty())
        return unexpected(user.file + ": " + what + " needs both client-certificate and client-key");
      c.token = str(user.node, "token");
      if (auto tf = str(user.node, "tokenFile"); !tf.empty())
        c.token_file = resolve(fs::path(user.file).parent_path().string(), expand_home(tf));
      if (auto ex = user.node["exec"]; ex && ex.IsMap()) {
        ExecSpec spec;
        spec.command = str(ex, "command");
        if (spec.command.empty()) return unexpected(user.file + ": " + what + ": exec has no command");
        if (spec.command.find('/') != std::string::npos)
          spec.command = resolve(fs::path(user.file).parent_path().string(), expand_home(spec.command));
        spec.api_version = str(ex, "apiVersion");
        if (spec.api_version.empty()) return unexpected(user.file + ": " + what + ": exec has no apiVersion");
        if (auto args = ex["args"]; args && args.IsSequence())
          for (const auto& a : args) spec.args.push_back(a.as<std::string>());
        if (auto env = ex["env"]; env && env.IsSequence())
          for (const auto& e : env) spec.env.emplace_back(str(e, "name"), str(e, "value"));
        c.exec = std::move(spec);
      }
      if (user.node["username"] || user.node["auth-provider"])
        return unexpected(user.file + ": " + what + ": basic auth and auth-provider are not supported");
    }
  } catch (const YAML::Exception& e) {
    return unexpected(ctx.file + ": malformed kubeconfig: " + e.msg);
  }
  return c;
}

Expected<Credentials, std::string> in_cluster_credentials(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return unexpected(std::string("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT unset"));
  Credentials c;
  c.host = host;
  c.port = port;
  bool v6 = c.host.find(':') != std::string::npos;
  c.server = "https://" + (v6 ? "[" + c.host + "]" : c.host) + ":" + c.port;
  c.token_file = root + "/token";
  auto tok = read_file(c.token_file);
  if (!tok) return unexpected(tok.error());
  auto ca = read_file(root + "/ca.crt");
  if (!ca) return unexpected(ca.error());
  c.ca_pem = std::move(*ca);
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) {
    c.ns = ns;
  } else if (auto n = read_file(root + "/namespace"); n && !n->empty()) {
    c.ns = *n;
    while (!c.ns.empty() && (c.ns.back() == '\n' || c.ns.back() == ' ')) c.ns.pop_back();
  }
  c.source = "in-cluster service account";
  return c;
}

}  // namespace canary_guard::kube
