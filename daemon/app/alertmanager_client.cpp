#include "daemon/app/alertmanager_client.hpp"

#include <nlohmann/json.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace canary_guard::app {

namespace asio = boost::asio;
using guard::AlertCheck;
using guard::AlertStatus;

namespace {
std::string percent_encode(std::string_view m) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : m) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string matcher_query(std::string_view name, std::string_view value) {
  std::string m(name);
  m += "=\"";
  for (char c : value) {
    if (c == '"' || c == '\\') m += '\\';
    m += c;
  }
  m += '"';
  return percent_encode(m);
}

std::string receiver_query(std::string_view name) {
  std::string re = "^";
  for (char c : name) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re += '\\';
    re += c;
  }
  re += '$';
  return percent_encode(re);
}

AlertCheck judge_alert_listing(std::string_view body, const std::string& fingerprint) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return AlertCheck{AlertStatus::unknown, "Alertmanager's answer is not a JSON array"};
  for (const auto& a : j) {
    if (!a.is_object()) continue;
    auto fp = a.find("fingerprint");
    if (fp == a.end() || !fp->is_string() || fp->get_ref<const std::string&>() != fingerprint) continue;
    auto status = a.find("status");
    if (status == a.end() || !status->is_object()) return AlertCheck{AlertStatus::unknown, "alert without a status"};
    auto state = status->find("state");
    if (state == status->end() || !state->is_string()) return AlertCheck{AlertStatus::unknown, "alert without a state"};
    const std::string& s = state->get_ref<const std::string&>();
    if (s == "active") return AlertCheck{AlertStatus::active, "active"};
    if (s == "suppressed") {
      auto names = [&](const char* key) {
        std::string out;
        auto it = status->find(key);
        if (it != status->end() && it->is_array())
          for (const auto& x : *it)
            if (x.is_string()) out += (out.empty() ? "" : ",") + x.get<std::string>();
        return out;
      };
      const std::string silenced = names("silencedBy"), inhibited = names("inhibitedBy");
      if (!silenced.empty()) return AlertCheck{AlertStatus::gone, "silenced by " + silenced};
      if (!inhibited.empty()) return AlertCheck{AlertStatus::gone, "inhibited by " + inhibited};
      return AlertCheck{AlertStatus::gone, "suppressed"};
    }
    // "unprocessed": Alertmanager has it but has not routed it yet; not a confirmation.
    return AlertCheck{AlertStatus::unknown, "alert state " + s};
  }
  return AlertCheck{AlertStatus::gone, "not among Alertmanager's alerts (resolved or expired)"};
}

namespace {
// A GET, tried again (at most 3 tries, 20-40 ms then 60-120 ms apart) while Alertmanager says it is busy (503: more
// GETs than --web.get-concurrency at once; 429), all within one deadline. Any other answer is returned as it is.
asio::awaitable<Expected<HttpGetResponse, std::string>> get_patiently(asio::io_context& ioc, const std::string& base,
                                                                      const std::string& path,
                                                                      std::chrono::milliseconds timeout) {
  using std::chrono::milliseconds;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  static thread_local std::minstd_rand jitter{std::random_device{}()};
  for (int attempt = 1;; ++attempt) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    auto r = co_await http_get(ioc, base, path, std::max(left, milliseconds{1}), 8 * 1024 * 1024);
    if (!r || (r->status != 503 && r->status != 429) || attempt == 3) co_return r;
    const milliseconds base_wait{attempt == 1 ? 20 : 60};
    const milliseconds wait = base_wait + milliseconds{jitter() % static_cast<unsigned>(base_wait.count() + 1)};
    if (std::chrono::steady_clock::now() + wait >= deadline) co_return r;
    asio::steady_timer t(ioc, wait);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}
}  // namespace

AlertmanagerClient::AlertmanagerClient(asio::io_context& ioc, std::string base_url, std::chrono::milliseconds timeout)
    : ioc_(ioc),
      base_url_(std::move(base_url)),
      timeout_(timeout),
      listings_(ioc, [this](const std::string& path) -> asio::awaitable<Expected<HttpGetResponse, std::string>> {
        try {
          co_return co_await get_patiently(ioc_, base_url_, path, timeout_);
        } catch (const std::exception& ex) {
          co_return unexpected(std::string("unexpected error: ") + ex.what());
        }
      }) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

asio::awaitable<AlertCheck> AlertmanagerClient::check(const std::string& fingerprint, const std::string& alertname,
                                                      const std::string& ns) {
  const std::string path = "/api/v2/alerts?filter=" + matcher_query("alertname", alertname) +
                           "&filter=" + matcher_query("namespace", ns);
  auto r = co_await listings_.get(path);
  if (!r) co_return AlertCheck{AlertStatus::unknown, "Alertmanager " + base_url_ + ": " + r.error()};
  if (r->status != 200)
    co_return AlertCheck{AlertStatus::unknown, "Alertmanager " + base_url_ + " answered HTTP " + std::to_string(r->status)};
  co_return judge_alert_listing(r->body, fingerprint);
}

asio::awaitable<Expected<probes::ActiveAlerts, std::string>> AlertmanagerClient::active_alerts(
    const std::string& receiver) {
  const std::string path = "/api/v2/alerts?active=true&silenced=false&inhibited=false&unprocessed=false&receiver=" +
                           receiver_query(receiver);
  auto r = co_await http_get(ioc_, base_url_, path, timeout_, 8 * 1024 * 1024);
  if (!r) co_return unexpected("Alertmanager " + base_url_ + ": " + r.error());
  if (r->status != 200) co_return unexpected("Alertmanager " + base_url_ + " answered HTTP " + std::to_string(r->status));
  auto parsed = probes::parse_active_alerts(r->body);
  if (!parsed) co_return unexpected("Alertmanager " + base_url_ + ": " + parsed.error());
  co_return std::move(*parsed);
}

asio::awaitable<std::pair<int, std::string>> AlertmanagerClient::post_alerts(const std::string& json_array) {
  auto r = co_await http_send(ioc_, "POST", base_url_, "/api/v2/alerts", json_array, "application/json", {}, timeout_,
                              64 * 1024);
  if (!r) co_return std::pair<int, std::string>{0, r.error()};
  if (r->status / 100 != 2) co_return std::pair<int, std::string>{r->status, r->body.substr(0, 200)};
  co_return std::pair<int, std::string>{r->status, std::string()};
}

}  // namespace canary_guard::app
