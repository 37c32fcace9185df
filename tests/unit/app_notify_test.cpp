// The systemd notify protocol without systemd: a unix datagram socket stands in for NOTIFY_SOCKET. READY/STATUS/
// STOPPING arrive as sd_notify(3) sends them, and WATCHDOG=1 comes from the io_context's own loop: while that loop is
// blocked, the pings stop (so systemd's WatchdogSec restarts a wedged daemon), and they resume after it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "daemon/app/notify.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Message {
  Clock::time_point at;
  std::string text;
};

class NotifySocket {
 public:
  NotifySocket() {
    path_ = "/tmp/cg-notify-test-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path_.copy(a.sun_path, sizeof(a.sun_path) - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    timeval tv{0, 20'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // Every datagram that arrives within `d`, with its arrival time.
  std::vector<Message> read_for(Clock::duration d) {
    std::vector<Message> out;
    const auto end = Clock::now() + d;
    char buf[512];
    while (Clock::now() < end) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) out.push_back({Clock::now(), std::string(buf, static_cast<std::size_t>(n))});
    }
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

std::vector<Clock::time_point> pings(const std::vector<Message>& ms) {
  std::vector<Clock::time_point> out;
  for (const auto& m : ms)
    if (m.text == "WATCHDOG=1") out.push_back(m.at);
  return out;
}

}  // namespace

TEST(Notify, WatchdogPingsComeFromTheLoopAndStopWhileItIsBlocked) {
  NotifySocket sock;
  ASSERT_TRUE(sock.bound());
  ::setenv("WATCHDOG_USEC", "200000", 1);  // systemd's WatchdogSec=200ms: a ping every 100 ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  ASSERT_EQ(canary_guard::app::Notifier::watchdog_interval(), std::chrono::microseconds(100'000));

  asio::io_context ioc;
  canary_guard::app::Notifier notifier(ioc);
  asio::co_spawn(ioc, notifier.watchdog(), asio::detached);
  std::thread loop([&] { ioc.run(); });

  const auto before = pings(sock.read_for(450ms));
  EXPECT_GE(before.size(), 2u);
  EXPECT_LE(before.size(), 6u);

  // Wedge the loop for 700 ms: no ping may arrive meanwhile (the block's own clock, whenever the loop picks it up).
  std::atomic<Clock::rep> block_start{0}, block_end{0};
  asio::post(ioc, [&] {
    block_start = Clock::now().time_since_epoch().count();
    std::this_thread::sleep_for(700ms);
    block_end = Clock::now().time_since_epoch().count();
  });
  auto during = sock.read_for(1300ms);
  ASSERT_NE(block_end.load(), 0) << "the loop never ran the blocking task";
  const Clock::time_point start{Clock::duration{block_start.load()}}, end{Clock::duration{block_end.load()}};
  std::size_t in_block = 0, after = 0;
  for (auto t : pings(during)) {
    if (t > start + 50ms && t < end) ++in_block;  // 50 ms: a ping sent just before the block may land after it
    if (t > end) ++after;
  }
  EXPECT_EQ(in_block, 0u) << "pings while the loop was blocked";
  EXPECT_GE(after, 1u) << "the pings resume once the loop runs again";

  notifier.ready("caches synced\nguarding");
  notifier.stopping();
  auto rest = sock.read_for(150ms);
  std::vector<std::string> texts;
  for (const auto& m : rest)
    if (m.text != "WATCHDOG=1") texts.push_back(m.text);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0], "READY=1\nSTATUS=caches synced guarding");  // one line
  EXPECT_EQ(texts[1], "STOPPING=1");

  asio::post(ioc, [&] { notifier.stop(); });
  loop.join();  // the watchdog coroutine ended: nothing left to run
}

TEST(Notify, NoWatchdogAskedForNoPings) {
  NotifySocket sock;
  ASSERT_TRUE(sock.bound());
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_FALSE(canary_guard::app::Notifier::watchdog_interval());
  ::setenv("WATCHDOG_USEC", "200000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);  // the watchdog is for another process
  EXPECT_FALSE(canary_guard::app::Notifier::watchdog_interval());
  asio::io_context ioc;
  canary_guard::app::Notifier notifier(ioc);
  asio::co_spawn(ioc, notifier.watchdog(), asio::detached);
  ioc.run();  // returns at once: the coroutine ended without a timer
  EXPECT_TRUE(pings(sock.read_for(100ms)).empty());
}
