#pragma once
// Client: the one HTTPS connection manager to the Kubernetes API server (TLS verified against the kubeconfig CA,
// keep-alive pool, a deadline on every request, bounded bodies, bearer token / client cert / exec auth).
// Owned by the daemon's wiring; lives on the io_context thread; every method is a coroutine and never throws for
// network or server problems: it returns Result<T> with an ErrorKind (daemon/kube/errors.hpp).
//
// Usage (inside a coroutine on the io_context thread):
//   auto creds = kube::load_kubeconfig(path_or_empty, context_or_empty);       // Expected<Credentials, string>
//   auto client = kube::Client::make(ioc, *creds);                               // Expected<unique_ptr<Client>, string>
//   auto d = co_await (*client)->get(kube::paths::deployments("shop", "web"));  // Result<nlohmann::json>
//   if (!d && d.error().kind == kube::ErrorKind::not_found) ...
//   auto page = co_await c.list(kube::paths::replicasets("shop"), {.label_selector = "app=web", .limit = 100});
//   auto all  = co_await c.list_all(kube::paths::pods(), {});     // {"metadata":{"resourceVersion":..},"items":[..]}
//   auto p = co_await c.patch(path, kube::PatchType::json,
//       R"([{"op":"test","path":"/metadata/resourceVersion","value":"123"},{"op":"replace",...}])");
//   // 422 invalid = failed test; 409 conflict = stale RV; is_already_exists(e) for create of an existing name.
//   auto r = co_await c.watch(kube::paths::deployments(), {.resource_version = rv},
//       [&](std::string_view line) { /* one {"type":..,"object":..} */ return true; /* false stops */ });
//   // r: Ok when the server ended the stream (timeoutSeconds), or an Error (gone -> relist).
// Prefer kube::Informer (informer.hpp) over raw watch.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/clock.hpp"
#include "daemon/kube/auth.hpp"
#include "daemon/kube/errors.hpp"
#include "daemon/kube/kubeconfig.hpp"
#include "daemon/kube/idle_pool.hpp"
#include "daemon/kube/request_slots.hpp"

namespace canary_guard::kube {

template <class T>
using Task = boost::asio::awaitable<T>;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;        // "" = consistent read
  std::string resource_version_match;  // "" | NotOlderThan | Exact
};

struct WatchOptions {
  std::string resource_version;
  int timeout_seconds = 300;  // server closes the stream after this; 0 = let the server pick
  bool allow_bookmarks = true;
  std::string label_selector;
  std::string field_selector;
  // Silence allowed on an open stream beyond timeout_seconds before it counts as dead (a frozen connection: a proxy
  // or load balancer that stopped forwarding without closing). The read deadline is timeout_seconds + this.
  std::chrono::seconds idle_grace{10};
  // Called once the server answered 200 and the stream is open (the informer counts that as a sign of life).
  std::function<void()> on_established;
};

enum class PatchType { json, merge, strategic };
std::string_view content_type(PatchType t) noexcept;

struct RawResponse {
  int status = 0;
  std::string body;
};

struct ClientOptions {
  std::chrono::milliseconds request_timeout{std::chrono::seconds{30}};
  std::size_t body_limit = 16u << 20;  // non-watch responses
  std::size_t max_line = 16u << 20;    // one watch event
  // Keep-alive connections kept open while unused, and for how long (client-go's transport: 25 and 90 s). A burst's
  // next step reuses what its previous step opened (no TLS handshake per request); a quiet daemon lets them go.
  std::size_t max_idle_connections = 25;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds{90}};
  // Requests (not watches) in flight at once; more wait their turn (RequestSlots), at most request_timeout.
  std::size_t max_connections = 32;
  std::string user_agent = "canary-guard";
  const Clock* clock = nullptr;  // for token file refresh / exec expiry; nullptr = system clock
  std::chrono::milliseconds exec_timeout{std::chrono::seconds{30}};  // kubeconfig exec credential plugin
};

// verb: GET LIST WATCH POST PUT PATCH DELETE; resource: plural (e.g. "deployments"); code: HTTP status, 0 when
// no response arrived. Lets the daemon count canary_guard_kube_requests_total without kube/ knowing Prometheus.
using RequestHook = std::function<void(std::string_view verb, std::string_view resource, int code)>;
// One complete watch event line. Return false to stop the watch (the call then returns Ok).
using LineHandler = std::function<bool(std::string_view line)>;
// One raw LIST page body. Parses it and returns its metadata.continue ("" on the last page), or an Error that
// ends the listing and is what list_pages_raw returns.
using RawPageHandler = std::function<Expected<std::string, Error>(std::string_view body, bool restarted)>;

class Client {
 public:
  static Expected<std::unique_ptr<Client>, std::string> make(boost::asio::io_context& ioc, Credentials creds,
                                                             ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Task<Result<nlohmann::json>> get(std::string path);
  Task<Result<nlohmann::json>> list(std::string path, ListOptions opts);
  // Calls on_page for each page (all from one snapshot); restarts once from scratch on 410 (expired continue
  // token): on_page then sees a page with metadata.continue == "" first again, signalled by restarted=true.
  Task<Result<Ok>> list_pages(std::string path, ListOptions opts, int page_limit,
                              std::function<void(nlohmann::json& page, bool restarted)> on_page);
  // The same paging, 410 restart and errors, without a JSON DOM: on_page parses each body itself (the informers
  // use kube::Decoder, simdjson) and hands back the continue token.
  Task<Result<Ok>> list_pages_raw(std::string path, ListOptions opts, int page_limit, RawPageHandler on_page);
  // All pages concatenated: {"metadata":{"resourceVersion":rv},"items":[...]}.
  Task<Result<nlohmann::json>> list_all(std::string path, ListOptions opts, int page_limit = 500);
  Task<Result<nlohmann::json>> patch(std::string path, PatchType type, std::string body);
  Task<Result<nlohmann::json>> create(std::string path, std::string body);
  Task<Result<nlohmann::json>> update(std::string path, std::string body);  // PUT (e.g. .../status, leases)
  Task<Result<nlohmann::json>> remove(std::string path);                   // DELETE
  // Any request; non-2xx statuses are returned, not mapped to errors. For tests and odd endpoints.
  Task<Result<RawResponse>> request(std::string method, std::string path, std::string body = {},
                                    std::string content_type = "application/json");
  Task<Result<Ok>> watch(std::string path, WatchOptions opts, LineHandler handler);

  // Aborts running watches (they return a transport error) and drops idle connections. For shutdown.
  void cancel_watches();
  void set_request_hook(RequestHook hook) { hook_ = std::move(hook); }
  const Credentials& credentials() const noexcept { return creds_; }
  const ClientOptions& options() const noexcept { return options_; }

  struct Connection;

 private:
  Client(boost::asio::io_context& ioc, Credentials creds, ClientOptions options);
  Expected<Ok, std::string> build_tls(const std::string& cert_pem, const std::string& key_pem);
  Task<Result<std::unique_ptr<Connection>>> connect(std::chrono::steady_clock::time_point deadline);
  Task<Result<RawResponse>> perform(std::string_view verb_label, std::string method, std::string target,
                                    std::string body, std::string content_type);
  Task<Result<RawResponse>> attempt(std::string_view method, const std::string& target, const std::string& body,
                                    const std::string& content_type, const AuthInfo& auth, bool& retry_fresh);
  Task<Result<nlohmann::json>> json_call(std::string_view verb_label, std::string method, std::string path,
                                         std::string body, std::string content_type);
  void count(std::string_view verb, const std::string& path, int code);

  boost::asio::io_context& ioc_;
  Credentials creds_;
  ClientOptions options_;
  SystemClock system_clock_;
  AuthProvider auth_;
  std::shared_ptr<void> tls_;  // boost::asio::ssl::context, type-erased to keep OpenSSL headers out of here
  std::string loaded_cert_;    // client cert currently in tls_ (exec plugins may rotate it)
  RequestSlots slots_;
  IdlePool<Connection> idle_;
  std::vector<Connection*> watching_;
  RequestHook hook_;
};

// Plural resource of an API path ("/apis/apps/v1/namespaces/x/deployments/y/status" -> "deployments").
std::string resource_of(std::string_view path);
// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);
// path + "?k=v&..." for list and watch calls.
std::string list_target(const std::string& path, const ListOptions& o);
std::string watch_target(const std::string& path, const WatchOptions& o);

}  // namespace canary_guard::kube
