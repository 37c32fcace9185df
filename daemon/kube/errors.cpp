#include "daemon/kube/errors.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace canary_guard::kube {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::invalid: return "invalid";
    case ErrorKind::gone: return "gone";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::too_many_requests: return "too_many_requests";
    case ErrorKind::server_error: return "server_error";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::transport: return "transport";
    case ErrorKind::bad_data: return "bad_data";
  }
  return "unknown";
}

Error make_error(ErrorKind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

namespace {

ErrorKind kind_from_status(int status, std::string_view reason) {
  if (reason == "Timeout") return ErrorKind::timeout;
  switch (status) {
    case 401: return ErrorKind::unauthorized;
    case 403: return ErrorKind::forbidden;
    case 404: return ErrorKind::not_found;
    case 408: return ErrorKind::timeout;
    case 409: return ErrorKind::conflict;
    case 410: return ErrorKind::gone;
    case 429: return ErrorKind::too_many_requests;
    case 504: return ErrorKind::timeout;
    default: break;
  }
  if (status >= 500) return ErrorKind::server_error;
  if (status >= 400) return ErrorKind::invalid;
  if (status >= 300) return ErrorKind::bad_data;  // the API server never redirects us
  // A Status with a 2xx code (watch ERROR events without code) still is a failure we cannot classify.
  if (reason == "Expired" || reason == "Gone") return ErrorKind::gone;
  return ErrorKind::bad_data;
}

std::chrono::seconds parse_retry_after(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  long long n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || ptr == v.data() || n < 0) return std::chrono::seconds{0};  // HTTP-date form: ignore
  return std::chrono::seconds{std::min<long long>(n, 3600)};
}

void fill_from_status(Error& e, const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("reason"); it != j.end() && it->is_string()) e.reason = it->get<std::string>();
  if (auto it = j.find("message"); it != j.end() && it->is_string()) e.message = it->get<std::string>();
  if (auto it = j.find("details"); it != j.end() && it->is_object()) {
    if (auto r = it->find("retryAfterSeconds"); r != it->end() && r->is_number_integer() && e.retry_after.count() == 0)
      e.retry_after = std::chrono::seconds{std::clamp<long long>(r->get<long long>(), 0, 3600)};
  }
}

}  // namespace

Error error_from_response(int http_status, std::string_view body, std::string_view retry_after) {
  Error e;
  e.http_status = http_status;
  e.retry_after = parse_retry_after(retry_after);
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    fill_from_status(e, j);
  } else if (!body.empty()) {
    // Not a Status (a proxy's HTML page, say): keep a bounded prefix for the log.
    e.message = std::string(body.substr(0, 256));
  }
  e.kind = kind_from_status(http_status, e.reason);
  if (e.message.empty()) e.message = "HTTP " + std::to_string(http_status);
  return e;
}

Error error_from_status_json(std::string_view status_json) {
  auto j = nlohmann::json::parse(status_json.begin(), status_json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(ErrorKind::bad_data, "watch ERROR event without a Status");
  Error e;
  fill_from_status(e, j);
  if (auto it = j.find("code"); it != j.end() && it->is_number_integer()) e.http_status = it->get<int>();
  e.kind = kind_from_status(e.http_status, e.reason);
  return e;
}

bool is_retryable(const Error& e) noexcept {
  switch (e.kind) {
    case ErrorKind::too_many_requests:
    case ErrorKind::server_error:
    case ErrorKind::timeout:
    case ErrorKind::transport:
      return true;
    default:
      return false;
  }
}

std::string describe(const Error& e) {
  std::string s = "kind=";
  s += to_string(e.kind);
  if (e.http_status != 0) s += " status=" + std::to_string(e.http_status);
  if (!e.reason.empty()) s += " reason=" + e.reason;
  s += " message=\"" + e.message + "\"";
  return s;
}

}  // namespace canary_guard::kube
