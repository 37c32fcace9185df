#include "daemon/prom/prometheus_client.hpp"

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/evp.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/kube/client.hpp"  // url_encode
#include "daemon/net/tls_peer.hpp"

namespace canary_guard::prom {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::redirect_error;
using asio::use_awaitable;
using probes::ErrorClass;
using probes::QueryError;
using SteadyClock = std::chrono::steady_clock;

struct PrometheusClient::Connection {
  explicit Connection(asio::io_context& ioc) : plain(ioc) {}
  beast::tcp_stream plain;                                    // http
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;  // https (plain is then unused)
  std::shared_ptr<ssl::context> ctx;                          // must outlive tls
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : plain; }
};

struct PrometheusClient::Response {
  int status = 0;
  std::string body;
};

namespace {

constexpr std::size_t kHeaderLimit = 64u << 10;

QueryError make_error(ErrorClass cls, std::string type, std::string message) {
  return QueryError{cls, std::move(type), std::move(message)};
}

bool is_timeout(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::timed_out;
}

// Transport failures: a deadline is type "timeout", a TLS failure (certificate, hostname, protocol) needs an
// operator (config/tls), anything else is a flaky network (transient/connection).
QueryError transport_error(const beast::error_code& ec, std::string_view during) {
  if (is_timeout(ec)) return make_error(ErrorClass::transient, "timeout", std::string(during) + ": deadline exceeded");
  if (ec.category() == asio::error::get_ssl_category() && ec != ssl::error::stream_truncated)
    return make_error(ErrorClass::config, "tls", std::string(during) + ": " + ec.message());
  return make_error(ErrorClass::transient, "connection", std::string(during) + ": " + ec.message());
}

std::string trim(std::string s) {
  const auto ws = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && ws(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Credential files are small; a bound keeps a misconfigured path (a log file, /dev/zero) from eating memory.
Expected<std::string, std::string> read_small_file(const std::string& path) {
  constexpr std::size_t kMax = 64u << 10;
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("cannot read " + path);
  std::string out(kMax + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (out.size() > kMax) return unexpected(path + " is larger than 64 KiB");
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string seconds_text(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace

Expected<ServerUrl, std::string> parse_server_url(std::string_view url) {
  ServerUrl out;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return unexpected("prometheus url " + std::string(url) + ": scheme must be http:// or https://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return unexpected("prometheus url " + std::string(url) + ": no query or fragment allowed");
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return unexpected("prometheus url: credentials in the URL are not supported; use basic_auth_user");
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return unexpected("prometheus url " + std::string(url) + ": unclosed [");
    out.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected("prometheus url " + std::string(url) + ": junk after ]");
      port = after.substr(1);
      if (port.empty()) return unexpected("prometheus url " + std::string(url) + ": empty port");
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return unexpected("prometheus url " + std::string(url) + ": empty port");
    }
  }
  if (out.host.empty()) return unexpected("prometheus url " + std::string(url) + ": no host");
  for (char c : out.host)
    if (c == ' ' || c == '\t' || (c == ':' && authority.front() != '['))
      return unexpected("prometheus url " + std::string(url) + ": bad host");
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535)
      return unexpected("prometheus url " + std::string(url) + ": bad port");
    out.port = std::to_string(v);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  std::string prefix(path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.find_first_of(" \t\r\n") != std::string::npos)
    return unexpected("prometheus url " + std::string(url) + ": whitespace in path");
  out.prefix = std::move(prefix);
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += kube::url_encode(k);
    out += '=';
    out += kube::url_encode(v);
  }
  return out;
}

Expected<ClientOptions, std::string> PrometheusClient::validate(ClientOptions o) {
  auto url = parse_server_url(o.url);
  if (!url) return unexpected(url.error());
  if (o.timeout <= std::chrono::milliseconds::zero()) return unexpected(std::string("prometheus timeout must be > 0"));
  if (o.max_body_bytes == 0) return unexpected(std::string("prometheus max_body_bytes must be > 0"));
  if (o.backoff_initial <= std::chrono::milliseconds::zero() || o.backoff_max < o.backoff_initial)
    return unexpected(std::string("prometheus backoff: need 0 < initial <= max"));
  if (!o.bearer_token_file.empty() && !o.basic_auth_user.empty())
    return unexpected(std::string("prometheus: bearer_token_file and basic_auth_user are mutually exclusive"));
  if (!o.basic_auth_password_file.empty() && o.basic_auth_user.empty())
    return unexpected(std::string("prometheus: basic_auth_password_file without basic_auth_user"));
  if (o.basic_auth_user.find(':') != std::string::npos)
    return unexpected(std::string("prometheus: basic_auth_user must not contain ':'"));
  for (const std::string* f : {&o.bearer_token_file, &o.basic_auth_password_file})
    if (!f->empty())
      if (auto r = read_small_file(*f); !r) return unexpected("prometheus: " + r.error());
  if (!o.ca_file.empty() && !std::ifstream(o.ca_file)) return unexpected("prometheus: cannot read " + o.ca_file);
  if (!o.ca_file.empty() && !url->tls) return unexpected(std::string("prometheus: ca_file needs an https:// url"));
  std::string normalized = (url->tls ? "https://" : "http://");
  normalized += url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  normalized += ":" + url->port + url->prefix;
  o.url = std::move(normalized);
  return o;
}

PrometheusClient::PrometheusClient(asio::io_context& ioc, ClientOptions opts, QueryObserver* observer)
    : ioc_(ioc), opts_(std::move(opts)), observer_(observer), jitter_state_(std::random_device{}()) {
  auto url = parse_server_url(opts_.url);
  if (!url) {
    setup_error_ = url.error();
    return;
  }
  server_ = std::move(*url);
  const bool v6 = server_.host.find(':') != std::string::npos;
  host_header_ = v6 ? "[" + server_.host + "]" : server_.host;
  if (server_.port != (server_.tls ? "443" : "80")) host_header_ += ":" + server_.port;
  if (!server_.tls) return;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (opts_.ca_file.empty()) ctx->set_default_verify_paths(ec);
  else ctx->load_verify_file(opts_.ca_file, ec);
  if (ec) {
    setup_error_ = "certificate authority " + (opts_.ca_file.empty() ? std::string("(system)") : opts_.ca_file) +
                   ": " + ec.message();
    return;
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  tls_ = ctx;
}

PrometheusClient::~PrometheusClient() = default;

std::chrono::milliseconds PrometheusClient::backoff(int retry) {
  // initial * 2^retry, capped, then "equal jitter": half fixed, half random, so retries of many probes spread out.
  double base = static_cast<double>(opts_.backoff_initial.count()) * std::pow(2.0, std::min(retry, 30));
  base = std::min(base, static_cast<double>(opts_.backoff_max.count()));
  jitter_state_ = jitter_state_ * 6364136223846793005ull + 1442695040888963407ull;
  const double r = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ull << 53);
  return std::chrono::milliseconds(static_cast<long long>(base / 2 + r * base / 2));
}

Expected<std::string, QueryError> PrometheusClient::authorization() {
  if (opts_.bearer_token_file.empty() && opts_.basic_auth_user.empty()) return std::string();
  const auto now = SteadyClock::now();
  if (auth_cached_ && now - auth_read_at_ < opts_.credentials_refresh) return cached_auth_;
  std::string header;
  if (!opts_.bearer_token_file.empty()) {
    auto token = read_small_file(opts_.bearer_token_file);
    if (!token) return unexpected(make_error(ErrorClass::config, "credentials", token.error()));
    header = "Bearer " + trim(std::move(*token));
  } else {
    std::string password;
    if (!opts_.basic_auth_password_file.empty()) {
      auto p = read_small_file(opts_.basic_auth_password_file);
      if (!p) return unexpected(make_error(ErrorClass::config, "credentials", p.error()));
      password = trim(std::move(*p));  // as Prometheus' own password_file handling does
    }
    header = "Basic " + base64(opts_.basic_auth_user + ":" + password);
  }
  cached_auth_ = std::move(header);
  auth_read_at_ = now;
  auth_cached_ = true;
  return cached_auth_;
}

asio::awaitable<Expected<std::unique_ptr<PrometheusClient::Connection>, QueryError>> PrometheusClient::connect(
    Deadline deadline) {
  auto conn = std::make_unique<Connection>(ioc_);
  if (server_.tls) {
    conn->ctx = std::static_pointer_cast<ssl::context>(tls_);
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *conn->ctx);
  }
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  // Boost 1.74 resolver has no deadline of its own; Prometheus is normally named by an IP or a cluster DNS name.
  auto endpoints = co_await resolver.async_resolve(server_.host, server_.port, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(make_error(ErrorClass::transient, "connection", "resolve " + server_.host + ": " + ec.message()));
  auto& stream = conn->lowest();
  stream.expires_at(deadline);
  co_await stream.async_connect(endpoints, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(transport_error(ec, "connect " + host_header_));
  if (!conn->tls) co_return conn;

  if (!net::set_tls_peer_name(conn->tls->native_handle(), server_.host, /*verify=*/true))
    co_return unexpected(make_error(ErrorClass::config, "tls", "cannot verify against name " + server_.host));
  stream.expires_at(deadline);
  co_await conn->tls->async_handshake(ssl::stream_base::client, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(transport_error(ec, "TLS handshake with " + host_header_));
  co_return conn;
}

namespace {

// One request/response on an established stream (plain or TLS). The deadline is already set on the socket.
template <class Stream>
asio::awaitable<beast::error_code> exchange(Stream& stream, beast::flat_buffer& buffer,
                                            http::request<http::string_body>& req,
                                            http::response_parser<http::string_body>& parser, bool& wrote) {
  beast::error_code ec;
  co_await http::async_write(stream, req, redirect_error(use_awaitable, ec));
  if (ec) co_return ec;
  wrote = true;
  co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  co_return ec;
}

}  // namespace

asio::awaitable<Expected<PrometheusClient::Response, QueryError>> PrometheusClient::attempt(
    std::string_view method, const std::string& target, const std::string& form, const std::string& authorization,
    Deadline deadline, bool& retry_fresh) {
  retry_fresh = false;
  std::unique_ptr<Connection> conn;
  bool reused = false;
  if (!idle_.empty()) {
    conn = std::move(idle_.back());
    idle_.pop_back();
    reused = true;
  } else {
    auto c = co_await connect(deadline);
    if (!c) co_return unexpected(std::move(c.error()));
    conn = std::move(*c);
  }
  http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get, target, 11};
  req.set(http::field::host, host_header_);
  req.set(http::field::user_agent, opts_.user_agent);
  req.set(http::field::accept, "application/json");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  if (method == "POST") {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = form;
  }
  req.keep_alive(true);
  req.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(opts_.max_body_bytes);  // Beast's default is 8 MiB; Prometheus answers may be larger
  conn->lowest().expires_at(deadline);
  bool wrote = false;
  beast::error_code ec = conn->tls ? co_await exchange(*conn->tls, conn->buffer, req, parser, wrote)
                                   : co_await exchange(conn->plain, conn->buffer, req, parser, wrote);
  if (ec) {
    if (ec == http::error::body_limit)
      co_return unexpected(make_error(ErrorClass::parse, "too_large",
                                      "response body over " + std::to_string(opts_.max_body_bytes) + " bytes"));
    if (ec == http::error::header_limit)
      co_return unexpected(make_error(ErrorClass::parse, "too_large", "response header over 64 KiB"));
    // A server that closed an idle keep-alive connection: nothing was received, so nothing was processed twice.
    retry_fresh = reused && !is_timeout(ec) && !parser.got_some() && (!wrote || net::is_stale_connection_error(ec));
    if (ec == http::error::partial_message)
      co_return unexpected(make_error(ErrorClass::transient, "connection", "response cut off mid-message"));
    co_return unexpected(transport_error(ec, wrote ? "receive" : "send"));
  }
  auto& res = parser.get();
  Response out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  if (res.keep_alive() && idle_.size() < opts_.max_idle_connections) {
    conn->buffer.clear();
    conn->lowest().expires_never();
    idle_.push_back(std::move(conn));
  }
  co_return out;
}

asio::awaitable<Expected<PrometheusClient::Response, QueryError>> PrometheusClient::perform(
    std::string_view endpoint, std::string_view method, std::string path, std::string form, Deadline deadline) {
  if (!setup_error_.empty()) {
    if (observer_) observer_->request(endpoint, 0, 0.0);
    co_return unexpected(make_error(ErrorClass::config, server_.tls ? "tls" : "config", setup_error_));
  }
  auto auth = authorization();
  if (!auth) {
    if (observer_) observer_->request(endpoint, 0, 0.0);
    co_return unexpected(std::move(auth.error()));
  }
  const std::string target = server_.prefix + path;
  const auto t0 = SteadyClock::now();
  for (int fresh_retries = 0;; ++fresh_retries) {
    bool retry_fresh = false;
    auto r = co_await attempt(method, target, form, *auth, deadline, retry_fresh);
    if (!r && retry_fresh && fresh_retries == 0) {
      idle_.clear();  // its siblings idled as long; they are probably closed too
      continue;
    }
    if (observer_) observer_->request(endpoint, r ? r->status : 0, seconds_since(t0));
    if (r && (r->status == 401 || r->status == 403)) auth_cached_ = false;  // a rotated token: re-read it next time
    co_return r;
  }
}

asio::awaitable<Expected<probes::QueryResult, QueryError>> PrometheusClient::query_impl(std::string promql,
                                                                                      double eval_time_unix,
                                                                                      Deadline slot_deadline) {
  probes::ParseOptions parse_options;
  parse_options.accept_warnings = opts_.accept_warnings;
  parse_options.max_body_bytes = opts_.max_body_bytes;
  const std::string time_text = seconds_text(eval_time_unix);
  std::optional<QueryError> last;
  for (int retry = 0;; ++retry) {
    const auto now = SteadyClock::now();
    const auto deadline = std::min(now + opts_.timeout, slot_deadline);
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (budget <= std::chrono::milliseconds::zero()) {
      if (last) co_return unexpected(std::move(*last));
      co_return unexpected(make_error(ErrorClass::transient, "timeout", "evaluation slot already over"));
    }
    // R1.3: the server gives up first, so slowness comes back as errorType timeout rather than a cut socket.
    std::vector<std::pair<std::string, std::string>> fields;
    fields.emplace_back("query", promql);
    fields.emplace_back("time", time_text);
    fields.emplace_back("timeout", seconds_text(0.8 * static_cast<double>(budget.count()) / 1000.0));
    std::string form = form_encode(fields);
    std::string path = "/api/v1/query";
    auto r = co_await perform("query", "POST", std::move(path), std::move(form), deadline);
    Expected<probes::QueryResult, QueryError> parsed =
        r ? probes::parse_query_response(r->status, r->body, parse_options)
          : Expected<probes::QueryResult, QueryError>(unexpected(std::move(r.error())));
    if (parsed) {
      for (const auto& w : parsed->warnings) spdlog::warn("component=prometheus event=query_warning warning=\"{}\"", w);
      co_return parsed;
    }
    QueryError& e = parsed.error();
    if (e.cls != ErrorClass::transient) co_return parsed;
    const auto delay = backoff(retry);
    if (SteadyClock::now() + delay >= slot_deadline) {
      spdlog::warn("component=prometheus event=query_failed class=transient type={} attempts={} error=\"{}\"", e.type,
                   retry + 1, e.message);
      co_return parsed;
    }
    spdlog::debug("component=prometheus event=retry type={} attempt={} delay_ms={}", e.type, retry + 1,
                  delay.count());
    last = std::move(e);
    asio::steady_timer timer(ioc_);
    timer.expires_after(delay);
    beast::error_code ec;
    co_await timer.async_wait(redirect_error(use_awaitable, ec));
  }
}

asio::awaitable<Expected<probes::QueryResult, QueryError>> PrometheusClient::query(std::string promql,
                                                                                 double eval_time_unix,
                                                                                 Deadline slot_deadline) {
  try {
    co_return co_await query_impl(std::move(promql), eval_time_unix, slot_deadline);
  } catch (const std::exception& ex) {  // bad_alloc and friends: still an ERROR, never an escape
    co_return unexpected(make_error(ErrorClass::transient, "internal", std::string("client: ") + ex.what()));
  }
}

asio::awaitable<Expected<std::string, QueryError>> PrometheusClient::buildinfo() {
  try {
    std::string path = "/api/v1/status/buildinfo";
    auto r = co_await perform("buildinfo", "GET", std::move(path), std::string(), SteadyClock::now() + opts_.timeout);
    if (!r) co_return unexpected(std::move(r.error()));
    probes::ParseOptions parse_options;
    parse_options.max_body_bytes = opts_.max_body_bytes;
    const auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    const bool success = r->status >= 200 && r->status < 300 && doc.is_object() &&
                         doc.value("status", std::string()) == "success";
    if (!success) {
      // The envelope and HTTP mapping are the query API's (§1.4); a success without resultType is not expected here.
      auto e = probes::parse_query_response(r->status, r->body, parse_options);
      if (!e) co_return unexpected(std::move(e.error()));
      co_return unexpected(make_error(ErrorClass::parse, "parse", "buildinfo: status is not \"success\""));
    }
    auto data = doc.find("data");
    if (data == doc.end() || !data->is_object() || !data->contains("version") || !(*data)["version"].is_string())
      co_return unexpected(make_error(ErrorClass::parse, "parse", "buildinfo: data.version missing"));
    std::string version = (*data)["version"].get<std::string>();
    if (!buildinfo_logged_) {
      buildinfo_logged_ = true;
      std::string revision;
      if (auto rev = data->find("revision"); rev != data->end() && rev->is_string()) revision = rev->get<std::string>();
      spdlog::info("component=prometheus event=buildinfo version={} revision={}", version, revision);
    }
    co_return version;
  } catch (const std::exception& ex) {
    co_return unexpected(make_error(ErrorClass::transient, "internal", std::string("client: ") + ex.what()));
  }
}

asio::awaitable<bool> PrometheusClient::ready() {
  try {
    std::string path = "/-/ready";
    auto r = co_await perform("ready", "GET", std::move(path), std::string(), SteadyClock::now() + opts_.timeout);
    co_return r && r->status == 200;
  } catch (const std::exception&) {
    co_return false;
  }
}

}  // namespace canary_guard::prom
