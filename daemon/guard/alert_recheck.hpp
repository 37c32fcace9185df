#pragma once
// AlertRecheck: asks Alertmanager, just before an alert rolls anything back, whether the alert still holds (active,
// not silenced, not inhibited). A silence a person set in the meantime stops the rollback; an Alertmanager that
// cannot be asked is doubt, and doubt holds. Implemented by app::AlertmanagerClient; a fake in unit tests.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <string>

namespace canary_guard::guard {

enum class AlertStatus {
  active,   // still firing, neither silenced nor inhibited: act
  gone,     // resolved, expired, silenced or inhibited: forget it, no action
  unknown,  // Alertmanager could not be asked or answered nonsense: hold and ask again
};

struct AlertCheck {
  AlertStatus status = AlertStatus::unknown;
  std::string detail;  // why (for logs and Events): "silenced by 3f2a...", "connection refused", ...
};

class AlertRecheck {
 public:
  virtual ~AlertRecheck() = default;
  // The alert with this fingerprint, looked up among Alertmanager's alerts named `alertname` in namespace `ns`.
  // References: the caller keeps them alive across the await (GCC 12 miscompiles by-value class parameters of
  // coroutines).
  virtual boost::asio::awaitable<AlertCheck> check(const std::string& fingerprint, const std::string& alertname,
                                                   const std::string& ns) = 0;
};

}  // namespace canary_guard::guard
