#pragma once
// The systemd notify protocol (sd_notify(3)), for Type=notify with WatchdogSec=:
//   ready(status)   READY=1 and STATUS=<status>, once the caches synced
//   status(text)    STATUS=<text>, one line
//   stopping()      STOPPING=1 at the start of a clean stop
//   watchdog()      a coroutine on the io thread's own io_context that sends WATCHDOG=1 every half of
//                   WATCHDOG_USEC (sd_watchdog_enabled(3)): the pings come from the loop that does the work, so a
//                   wedged loop stops them and systemd restarts the daemon. Returns at once when no watchdog is
//                   asked for (no WATCHDOG_USEC, or WATCHDOG_PID names another process); stops with stop().
// Without NOTIFY_SOCKET every call is a no-op. Tested by binding a unix datagram socket (tests/unit/app_notify_test.cpp).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace canary_guard::app {

class Notifier {
 public:
  explicit Notifier(boost::asio::io_context& ioc) : timer_(ioc) {}
  void ready(const std::string& status);
  void status(const std::string& text);
  void stopping();
  // RELOADING=1: SIGHUP with a new configuration (the daemon re-executes in place and sends READY=1 again).
  void reloading();
  // The ping interval systemd asks for (half of WATCHDOG_USEC), or nullopt when no watchdog is enabled for us.
  static std::optional<std::chrono::microseconds> watchdog_interval();
  boost::asio::awaitable<void> watchdog();
  void stop();

 private:
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace canary_guard::app
