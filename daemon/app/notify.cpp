#include "daemon/app/notify.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <systemd/sd-daemon.h>

namespace canary_guard::app {

namespace {
// STATUS= is one line: a newline would start another assignment.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

void Notifier::ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str()); }

void Notifier::status(const std::string& text) { sd_notify(0, ("STATUS=" + one_line(text)).c_str()); }

void Notifier::stopping() { sd_notify(0, "STOPPING=1"); }
void Notifier::reloading() { sd_notify(0, "RELOADING=1"); }

std::optional<std::chrono::microseconds> Notifier::watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

boost::asio::awaitable<void> Notifier::watchdog() {
  const auto interval = watchdog_interval();
  if (!interval) co_return;
  while (!stopped_) {
    sd_notify(0, "WATCHDOG=1");
    timer_.expires_after(*interval);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

void Notifier::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace canary_guard::app
