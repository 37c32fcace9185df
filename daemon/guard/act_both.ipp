// Implementation of guard::both() (declared in act.hpp). Included by act.hpp only.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>

namespace canary_guard::guard {

template <class A, class B>
boost::asio::awaitable<std::pair<A, B>> both(boost::asio::awaitable<A> a, boost::asio::awaitable<B> b) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  std::optional<A> ra;
  std::optional<B> rb;
  std::exception_ptr error;
  int pending = 2;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  auto finish = [&](std::exception_ptr e) {
    if (e && !error) error = e;
    if (--pending == 0) done.cancel();
  };
  // The spawned coroutines refer to this frame's locals; it outlives them because it waits for both below.
  asio::co_spawn(
      ex, [&]() -> asio::awaitable<void> { ra.emplace(co_await std::move(a)); }, finish);
  asio::co_spawn(
      ex, [&]() -> asio::awaitable<void> { rb.emplace(co_await std::move(b)); }, finish);
  while (pending > 0) {
    boost::system::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (error) std::rethrow_exception(error);
  co_return std::pair<A, B>{std::move(*ra), std::move(*rb)};
}

}  // namespace canary_guard::guard
