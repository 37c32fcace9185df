#pragma once
// Errors of the Kubernetes client: one closed set of kinds that callers branch on, plus the server's own
// reason/message (kept verbatim so an RBAC denial names the missing verb and resource in the logs).
#include <chrono>
#include <string>
#include <string_view>

#include "config/expected.hpp"

namespace canary_guard::kube {

enum class ErrorKind {
  not_found,          // 404
  conflict,           // 409: stale resourceVersion, or AlreadyExists on create (see is_already_exists)
  invalid,            // 400, 422 (a failed JSON-patch `test` op lands here), other 4xx
  gone,               // 410: expired resourceVersion or continue token -> relist
  forbidden,          // 403: RBAC
  unauthorized,       // 401: bad or expired credentials
  too_many_requests,  // 429: honour retry_after
  server_error,       // 5xx except 504
  timeout,            // client deadline, 504, 408, Status reason Timeout
  transport,          // connect, TLS, reset, credentials could not be obtained
  bad_data,           // unparsable JSON, truncated body, oversized line or body
};

std::string_view to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::transport;
  int http_status = 0;                  // 0 when no response was received
  std::string reason;                   // Status.reason, e.g. "Conflict", "AlreadyExists", "Expired"
  std::string message;                  // Status.message, or a description of the local failure
  std::chrono::seconds retry_after{0};  // from the Retry-After header (429, 503) or Status.details
};

template <class T>
using Result = Expected<T, Error>;

// Error::reason of a response refused locally for exceeding ClientOptions::body_limit.
inline constexpr std::string_view kBodyTooLarge = "BodyTooLarge";
// The smallest page a list is cut down to when pages exceed the body cap.
inline constexpr int kMinPageLimit = 16;

Error make_error(ErrorKind kind, std::string message);

// Maps an HTTP status + optional Status body + Retry-After header value to an Error. Never throws.
Error error_from_response(int http_status, std::string_view body, std::string_view retry_after = {});

// Same mapping for an ERROR watch event's object (a Status JSON).
Error error_from_status_json(std::string_view status_json);

inline bool is_already_exists(const Error& e) { return e.kind == ErrorKind::conflict && e.reason == "AlreadyExists"; }

// Transient kinds worth retrying with backoff (the caller still decides).
bool is_retryable(const Error& e) noexcept;

// "kind=forbidden status=403 reason=Forbidden message=..." for logs. Never contains a token.
std::string describe(const Error& e);

}  // namespace canary_guard::kube
