#include "daemon/kube/client.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "daemon/kube/line_framer.hpp"
#include "daemon/kube/resolve.hpp"
#include "daemon/net/tls_peer.hpp"

namespace canary_guard::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using asio::redirect_error;
using asio::use_awaitable;
using SteadyTime = std::chrono::steady_clock::time_point;

struct Client::Connection {
  Connection(asio::io_context& ioc, std::shared_ptr<ssl::context> c) : ctx(std::move(c)), stream(ioc, *ctx) {}
  std::shared_ptr<ssl::context> ctx;  // must outlive the stream
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

namespace {

Duration monotonic_now() { return SteadyClock{}.elapsed(); }

constexpr int kMaxThrottledRetries = 5;                     // client-go: 10; ours are bounded by the cap below
constexpr std::chrono::seconds kRetryAfterCap{10};

// TCP keepalive on every connection to the apiserver, as Go's net.Dialer does (probe after 30 s idle, every 10 s,
// give up after 3): a peer that vanished (a dropped flow, a rebooted node) ends the connection in about a minute
// instead of at the read deadline. Best effort: a failure only loses this early notice.
void set_keepalive(tcp::socket& s) {
  boost::system::error_code ec;
  s.set_option(boost::asio::socket_base::keep_alive(true), ec);
  const int fd = s.native_handle();
  int idle = 30, interval = 10, count = 3;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

constexpr std::size_t kHeaderLimit = 64u << 10;
constexpr std::size_t kErrorBodyLimit = 1u << 20;

Error transport_error(const beast::error_code& ec, std::string_view during) {
  if (ec == beast::error::timeout || ec == asio::error::timed_out)
    return make_error(ErrorKind::timeout, std::string(during) + ": deadline exceeded");
  return make_error(ErrorKind::transport, std::string(during) + ": " + ec.message());
}

Result<json> parse_json(const std::string& body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unexpected(make_error(ErrorKind::bad_data, "response is not valid JSON"));
  return j;
}

http::verb to_verb(std::string_view m) {
  auto v = http::string_to_verb(m);
  return v == http::verb::unknown ? http::verb::get : v;
}

}  // namespace

std::string_view content_type(PatchType t) noexcept {
  switch (t) {
    case PatchType::json: return "application/json-patch+json";
    case PatchType::merge: return "application/merge-patch+json";
    case PatchType::strategic: return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

namespace {
void add_param(std::string& target, std::string_view key, std::string_view value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += key;
  target += '=';
  target += url_encode(value);
}
}  // namespace

std::string list_target(const std::string& path, const ListOptions& o) {
  std::string t = path;
  if (!o.label_selector.empty()) add_param(t, "labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add_param(t, "fieldSelector", o.field_selector);
  if (o.limit > 0) add_param(t, "limit", std::to_string(o.limit));
  if (!o.continue_token.empty()) add_param(t, "continue", o.continue_token);
  if (!o.resource_version.empty()) add_param(t, "resourceVersion", o.resource_version);
  if (!o.resource_version_match.empty()) add_param(t, "resourceVersionMatch", o.resource_version_match);
  return t;
}

std::string watch_target(const std::string& path, const WatchOptions& o) {
  std::string t = path;
  add_param(t, "watch", "1");
  if (!o.label_selector.empty()) add_param(t, "labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add_param(t, "fieldSelector", o.field_selector);
  if (!o.resource_version.empty()) add_param(t, "resourceVersion", o.resource_version);
  if (o.allow_bookmarks) add_param(t, "allowWatchBookmarks", "true");
  if (o.timeout_seconds > 0) add_param(t, "timeoutSeconds", std::to_string(o.timeout_seconds));
  return t;
}

std::string resource_of(std::string_view path) {
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  // /api/v1/... or /apis/<group>/<version>/...
  std::size_t i = 0;
  if (!parts.empty() && parts[0] == "api") i = 2;
  else if (!parts.empty() && parts[0] == "apis") i = 3;
  else return "other";
  if (i + 1 < parts.size() && parts[i] == "namespaces" && i + 2 < parts.size()) i += 2;
  return i < parts.size() ? std::string(parts[i]) : "other";
}

Client::Client(asio::io_context& ioc, Credentials creds, ClientOptions options)
    : ioc_(ioc), creds_(std::move(creds)), options_(std::move(options)),
      auth_(ioc, creds_, options_.clock ? *options_.clock : system_clock_, AuthOptions{options_.exec_timeout}),
      slots_(ioc, options_.max_connections),
      idle_(std::min(options_.max_idle_connections, options_.max_connections), options_.idle_timeout) {}

Client::~Client() = default;

Expected<std::unique_ptr<Client>, std::string> Client::make(asio::io_context& ioc, Credentials creds,
                                                            ClientOptions options) {
  if (creds.host.empty()) {
    auto hp = parse_server_url(creds.server);
    if (!hp) return unexpected(hp.error());
    creds.host = hp->first;
    creds.port = hp->second;
  }
  if (!creds.insecure_skip_tls_verify && creds.ca_pem.empty())
    return unexpected(std::string("no certificate authority for ") + creds.server);
  if (auto p = check_no_proxy(creds, [](const char* n) -> const char* { return std::getenv(n); }); !p)
    return unexpected(p.error());
  std::unique_ptr<Client> c(new Client(ioc, std::move(creds), std::move(options)));
  auto cert = c->creds_.client_cert_pem;
  auto key = c->creds_.client_key_pem;
  if (auto r = c->build_tls(cert, key); !r) return unexpected(r.error());
  return c;
}

Expected<Ok, std::string> Client::build_tls(const std::string& cert_pem, const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1, ec);
  if (creds_.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->add_certificate_authority(asio::buffer(creds_.ca_pem), ec);
    if (ec) return unexpected("certificate authority: " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer, ec);
  }
  if (!cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec) return unexpected("client certificate: " + ec.message());
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec) return unexpected("client key: " + ec.message());
  }
  tls_ = ctx;
  loaded_cert_ = cert_pem;
  idle_.clear();
  return Ok{};
}

Task<Result<std::unique_ptr<Client::Connection>>> Client::connect(SteadyTime deadline) {
  auto conn = std::make_unique<Connection>(ioc_, std::static_pointer_cast<ssl::context>(tls_));
  beast::error_code ec;
  // Bounded by the request's deadline: Asio 1.74's resolver cannot interrupt a getaddrinfo that hangs.
  auto resolved = co_await resolve_within(ioc_, creds_.host, creds_.port, deadline);
  if (resolved.ec) co_return unexpected(transport_error(resolved.ec, "resolve " + creds_.host));
  const auto& endpoints = resolved.results;
  auto& tcp_stream = beast::get_lowest_layer(conn->stream);
  tcp_stream.expires_at(deadline);
  co_await tcp_stream.async_connect(endpoints, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(transport_error(ec, "connect " + creds_.host + ":" + creds_.port));
  set_keepalive(tcp_stream.socket());

  const std::string& name = creds_.tls_server_name.empty() ? creds_.host : creds_.tls_server_name;
  if (!net::set_tls_peer_name(conn->stream.native_handle(), name, !creds_.insecure_skip_tls_verify))
    co_return unexpected(make_error(ErrorKind::transport, "cannot verify against name " + name));
  co_await conn->stream.async_handshake(ssl::stream_base::client, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(transport_error(ec, "TLS handshake with " + creds_.host));
  co_return conn;
}

void Client::count(std::string_view verb, const std::string& path, int code) {
  if (hook_) hook_(verb, resource_of(path), code);
}

Task<Result<RawResponse>> Client::attempt(std::string_view method, const std::string& target, const std::string& body,
                                          const std::string& content_type_value, const AuthInfo& auth,
                                          bool& retry_fresh) {
  retry_fresh = false;
  const SteadyTime deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  std::unique_ptr<Connection> conn;
  bool reused = false;
  if (auto kept = idle_.take(monotonic_now())) {
    conn = std::move(kept);
    reused = true;
  } else {
    auto c = co_await connect(deadline);
    if (!c) co_return unexpected(c.error());
    conn = std::move(*c);
  }
  auto& tcp_stream = beast::get_lowest_layer(conn->stream);
  tcp_stream.expires_at(deadline);

  http::request<http::string_body> req{to_verb(method), target, 11};
  req.set(http::field::host, creds_.host);
  req.set(http::field::user_agent, options_.user_agent);
  req.set(http::field::accept, "application/json");
  if (!auth.token.empty()) req.set(http::field::authorization, "Bearer " + auth.token);
  if (!body.empty()) {
    req.set(http::field::content_type, content_type_value);
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();

  beast::error_code ec;
  co_await http::async_write(conn->stream, req, redirect_error(use_awaitable, ec));
  if (ec) {
    // A server that closed an idle keep-alive connection: nothing was processed, try once on a fresh one.
    retry_fresh = reused && ec != beast::error::timeout;
    co_return unexpected(transport_error(ec, "send"));
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(options_.body_limit);
  co_await http::async_read(conn->stream, conn->buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == http::error::body_limit) {
      Error e = make_error(ErrorKind::bad_data, "response body over " + std::to_string(options_.body_limit) + " bytes");
      e.reason = std::string(kBodyTooLarge);
      co_return unexpected(std::move(e));
    }
    if (ec == http::error::partial_message)
      co_return unexpected(make_error(ErrorKind::bad_data, "truncated response"));
    retry_fresh = reused && !parser.got_some() && net::is_stale_connection_error(ec);
    co_return unexpected(transport_error(ec, "receive"));
  }
  auto& res = parser.get();
  RawResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  if (res.keep_alive() && conn->ctx == tls_) {
    conn->buffer.clear();
    idle_.put(std::move(conn), monotonic_now());
  }
  // Retry-After travels in a header; smuggle it to the error mapper through the body-less path below.
  if (out.status == 429 || out.status == 503) {
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      Error e = error_from_response(out.status, out.body, it->value());
      co_return unexpected(std::move(e));
    }
  }
  co_return out;
}

Task<Result<RawResponse>> Client::perform(std::string_view verb_label, std::string method, std::string target,
                                          std::string body, std::string content_type_value) {
  // A burst waits for one of max_connections slots instead of opening a connection per request.
  if (!co_await slots_.acquire(std::chrono::steady_clock::now() + options_.request_timeout)) {
    count(verb_label, target, 0);
    co_return unexpected(make_error(ErrorKind::transport,
                                    "no request slot free within " +
                                        std::to_string(options_.request_timeout.count() / 1000) + " s (" +
                                        std::to_string(slots_.limit()) + " requests in flight)"));
  }
  RequestSlots::Slot slot(&slots_);
  bool reauthed = false;
  int throttled = 0;
  for (int tries = 0; tries < 3; ++tries) {
    auto auth = co_await auth_.current();
    if (!auth) {
      count(verb_label, target, 0);
      co_return unexpected(make_error(ErrorKind::transport, "credentials: " + auth.error()));
    }
    if (!auth->client_cert_pem.empty() && auth->client_cert_pem != loaded_cert_) {
      if (auto r = build_tls(auth->client_cert_pem, auth->client_key_pem); !r) {
        count(verb_label, target, 0);
        co_return unexpected(make_error(ErrorKind::transport, "credentials: " + r.error()));
      }
    }
    bool retry_fresh = false;
    auto r = co_await attempt(method, target, body, content_type_value, *auth, retry_fresh);
    if (!r) {
      if (retry_fresh) {
        idle_.clear();  // its siblings are probably stale too
        continue;
      }
      if (r.error().retry_after.count() > 0 && throttled < kMaxThrottledRetries) {
        // 429 / 503 with Retry-After: wait as told (bounded), then try again, as client-go's rest client does.
        // The request keeps its slot: the server asked everyone to slow down.
        ++throttled;
        --tries;
        count(verb_label, target, r.error().http_status);
        const auto wait = std::clamp<std::chrono::seconds>(r.error().retry_after, std::chrono::seconds{1},
                                                           kRetryAfterCap);
        spdlog::info("request=\"{} {}\" event=throttled status={} retry_in_s={} attempt={}", method, target,
                     r.error().http_status, wait.count(), throttled);
        asio::steady_timer t(ioc_, wait);
        boost::system::error_code ec;
        co_await t.async_wait(redirect_error(use_awaitable, ec));
        continue;
      }
      count(verb_label, target, r.error().http_status);
      co_return r;
    }
    count(verb_label, target, r->status);
    if (r->status == 401 && !reauthed && (creds_.exec || !creds_.token_file.empty())) {
      reauthed = true;
      auth_.invalidate();
      continue;
    }
    co_return r;
  }
  co_return unexpected(make_error(ErrorKind::transport, "connection kept failing"));
}

Task<Result<RawResponse>> Client::request(std::string method, std::string path, std::string body,
                                          std::string content_type_value) {
  std::string label = method;
  co_return co_await perform(label, std::move(method), std::move(path), std::move(body),
                             std::move(content_type_value));
}

Task<Result<json>> Client::json_call(std::string_view verb_label, std::string method, std::string path,
                                     std::string body, std::string content_type_value) {
  auto r = co_await perform(verb_label, std::move(method), std::move(path), std::move(body),
                            std::move(content_type_value));
  if (!r) co_return unexpected(r.error());
  if (r->status < 200 || r->status >= 300) co_return unexpected(error_from_response(r->status, r->body));
  co_return parse_json(r->body);
}

Task<Result<json>> Client::get(std::string path) {
  co_return co_await json_call("GET", "GET", std::move(path), {}, {});
}

Task<Result<json>> Client::list(std::string path, ListOptions opts) {
  co_return co_await json_call("LIST", "GET", list_target(path, opts), {}, {});
}

Task<Result<Ok>> Client::list_pages_raw(std::string path, ListOptions opts, int page_limit, RawPageHandler on_page) {
  opts.limit = page_limit;
  const ListOptions first = opts;
  bool restarted = false;
  bool restart_pending = false;
  for (;;) {
    auto page = co_await perform("LIST", "GET", list_target(path, opts), {}, {});
    if (page && (page->status < 200 || page->status >= 300))
      page = unexpected(error_from_response(page->status, page->body));
    if (!page && page.error().reason == kBodyTooLarge && opts.limit > kMinPageLimit) {
      // A page over the body cap (large objects: sidecar-injected pods, big environments) is fetched again with
      // half the items, down to a floor, from the same position; later pages keep the smaller size. Memory stays
      // bounded by the cap and the list completes instead of failing the same way for ever.
      opts.limit = std::max(kMinPageLimit, opts.limit / 2);
      spdlog::info("list=\"{}\" event=page_too_large retry_limit={}", path, opts.limit);
      continue;
    }
    if (!page) {
      // An expired continue token: the snapshot is gone, start over once (apiserver etcd3/errors.go).
      if (page.error().kind == ErrorKind::gone && !opts.continue_token.empty() && !restarted) {
        restarted = true;
        restart_pending = true;
        opts = first;
        continue;
      }
      co_return unexpected(page.error());
    }
    auto cont = on_page(page->body, restart_pending);
    if (!cont) co_return unexpected(std::move(cont.error()));
    restart_pending = false;
    if (cont->empty()) co_return Ok{};
    opts.continue_token = std::move(*cont);
  }
}

Task<Result<Ok>> Client::list_pages(std::string path, ListOptions opts, int page_limit,
                                    std::function<void(json& page, bool restarted)> on_page) {
  co_return co_await list_pages_raw(
      std::move(path), std::move(opts), page_limit,
      [&on_page](std::string_view body, bool restarted) -> Expected<std::string, Error> {
        auto page = json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (page.is_discarded()) return unexpected(make_error(ErrorKind::bad_data, "response is not valid JSON"));
        if (!page.is_object()) return unexpected(make_error(ErrorKind::bad_data, "list response is not an object"));
        std::string cont;
        if (auto m = page.find("metadata"); m != page.end() && m->is_object())
          if (auto c = m->find("continue"); c != m->end() && c->is_string()) cont = c->get<std::string>();
        on_page(page, restarted);
        return cont;
      });
}

Task<Result<json>> Client::list_all(std::string path, ListOptions opts, int page_limit) {
  json out = {{"metadata", json::object()}, {"items", json::array()}};
  auto r = co_await list_pages(std::move(path), std::move(opts), page_limit, [&](json& page, bool restarted) {
    if (restarted) out["items"] = json::array();
    if (auto m = page.find("metadata"); m != page.end() && m->is_object())
      if (auto rv = m->find("resourceVersion"); rv != m->end()) out["metadata"]["resourceVersion"] = *rv;
    if (auto k = page.find("kind"); k != page.end()) out["kind"] = *k;
    if (auto items = page.find("items"); items != page.end() && items->is_array())
      for (auto& item : *items) out["items"].push_back(std::move(item));
  });
  if (!r) co_return unexpected(r.error());
  co_return out;
}

Task<Result<json>> Client::patch(std::string path, PatchType type, std::string body) {
  co_return co_await json_call("PATCH", "PATCH", std::move(path), std::move(body), std::string(content_type(type)));
}

Task<Result<json>> Client::create(std::string path, std::string body) {
  co_return co_await json_call("POST", "POST", std::move(path), std::move(body), "application/json");
}

Task<Result<json>> Client::update(std::string path, std::string body) {
  co_return co_await json_call("PUT", "PUT", std::move(path), std::move(body), "application/json");
}

Task<Result<json>> Client::remove(std::string path) {
  co_return co_await json_call("DELETE", "DELETE", std::move(path), {}, {});
}

void Client::cancel_watches() {
  for (auto* c : watching_) {
    beast::error_code ec;
    beast::get_lowest_layer(c->stream).socket().cancel(ec);
    beast::get_lowest_layer(c->stream).socket().close(ec);
  }
  idle_.clear();
}

Task<Result<Ok>> Client::watch(std::string path, WatchOptions opts, LineHandler handler) {
  const std::string target = watch_target(path, opts);
  auto auth = co_await auth_.current();
  if (!auth) {
    count("WATCH", target, 0);
    co_return unexpected(make_error(ErrorKind::transport, "credentials: " + auth.error()));
  }
  if (!auth->client_cert_pem.empty() && auth->client_cert_pem != loaded_cert_) {
    if (auto r = build_tls(auth->client_cert_pem, auth->client_key_pem); !r)
      co_return unexpected(make_error(ErrorKind::transport, "credentials: " + r.error()));
  }
  // A watch gets its own connection: it is busy for minutes and is not returned to the pool.
  const SteadyTime deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  auto c = co_await connect(deadline);
  if (!c) {
    count("WATCH", target, 0);
    co_return unexpected(c.error());
  }
  std::unique_ptr<Connection> conn = std::move(*c);
  watching_.push_back(conn.get());
  struct Unregister {
    std::vector<Connection*>& v;
    Connection* c;
    ~Unregister() { v.erase(std::remove(v.begin(), v.end(), c), v.end()); }
  } unregister{watching_, conn.get()};

  auto& tcp_stream = beast::get_lowest_layer(conn->stream);
  tcp_stream.expires_at(deadline);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, creds_.host);
  req.set(http::field::user_agent, options_.user_agent);
  req.set(http::field::accept, "application/json");
  if (!auth->token.empty()) req.set(http::field::authorization, "Bearer " + auth->token);
  beast::error_code ec;
  co_await http::async_write(conn->stream, req, redirect_error(use_awaitable, ec));
  if (ec) {
    count("WATCH", target, 0);
    co_return unexpected(transport_error(ec, "watch send"));
  }
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(kHeaderLimit);
  // A watch streams for minutes; lines are bounded instead. Not boost::none: Boost 1.74 compares a Content-Length
  // against an unset limit as if it were 0 (basic_parser.ipp, `len_ > body_limit_` on an optional), so every error
  // response with a body (a 403) failed as "body limit exceeded" before its status was seen.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(conn->stream, conn->buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) {
    count("WATCH", target, 0);
    co_return unexpected(transport_error(ec, "watch header"));
  }
  const int status = static_cast<int>(parser.get().result_int());
  count("WATCH", target, status);
  if (status == 401) auth_.invalidate();

  if (status == 200 && opts.on_established) opts.on_established();
  // The server closes the stream after timeoutSeconds (and sends bookmarks meanwhile); silence beyond that plus a
  // short grace means a connection that stopped moving without closing (a frozen proxy): end it, so the informer
  // re-watches and, until then, reports itself not live.
  const auto idle = std::chrono::seconds{(opts.timeout_seconds > 0 ? opts.timeout_seconds : 60)} + opts.idle_grace;
  std::vector<char> buf(64u << 10);
  LineFramer framer(options_.max_line);
  std::string error_body;
  for (;;) {
    if (parser.is_done()) break;
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    tcp_stream.expires_after(status == 200 ? std::chrono::steady_clock::duration(idle)
                                           : std::chrono::steady_clock::duration(options_.request_timeout));
    // read_some, not read: read would wait until the 64 KiB buffer is full, holding events back for minutes.
    co_await http::async_read_some(conn->stream, conn->buffer, parser, redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = buf.size() - parser.get().body().size;
    if (n > 0) {
      std::string_view data(buf.data(), n);
      if (status != 200) {
        if (error_body.size() < kErrorBodyLimit) error_body.append(data.substr(0, kErrorBodyLimit - error_body.size()));
      } else {
        auto st = framer.feed(data, handler);
        if (st == LineFramer::Status::stopped) co_return Ok{};
        if (st == LineFramer::Status::too_long)
          co_return unexpected(make_error(ErrorKind::bad_data, "watch event longer than " +
                                                                   std::to_string(options_.max_line) + " bytes"));
      }
    }
    if (ec) {
      if (ec == http::error::end_of_stream && status == 200) break;
      if (status != 200) break;  // map what we have
      if (ec == http::error::partial_message || ec == asio::error::eof)
        co_return unexpected(make_error(ErrorKind::transport, "watch stream cut off"));
      co_return unexpected(transport_error(ec, "watch"));
    }
  }
  if (status != 200) co_return unexpected(error_from_response(status, error_body));
  if (framer.pending() > 0) co_return unexpected(make_error(ErrorKind::bad_data, "watch stream ended mid-event"));
  co_return Ok{};
}

}  // namespace canary_guard::kube
