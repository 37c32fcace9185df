#pragma once
// Name resolution bounded by a request's deadline. Asio 1.74 resolves on a private thread with a blocking
// getaddrinfo that cancel() cannot interrupt: a DNS server that does not answer held a request for the resolver's
// own timeouts (5 s x attempts per name in resolv.conf, longer with search domains), past the request's deadline.
// Here the caller stops waiting at the deadline and gets a timeout; the lookup finishes in the background and its
// result is dropped. One thread (the io_context's).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace canary_guard::kube {

using ResolveResults = boost::asio::ip::tcp::resolver::results_type;
using ResolveHandler = std::function<void(const boost::system::error_code&, ResolveResults)>;
// Starts a lookup that calls the handler once (tests pass one that never does, or does late).
using ResolveStarter = std::function<void(boost::asio::ip::tcp::resolver&, ResolveHandler)>;

struct ResolveOutcome {
  boost::system::error_code ec;  // boost::asio::error::timed_out when the deadline came first
  ResolveResults results;
};

// `start` empty: resolver.async_resolve(host, port). The strings are taken by const reference and copied before
// the first suspension (GCC 12: no by-value class arguments into coroutines, see guard/fresh_view.cpp).
inline boost::asio::awaitable<ResolveOutcome> resolve_within(boost::asio::io_context& ioc, const std::string& host,
                                                             const std::string& port,
                                                             std::chrono::steady_clock::time_point deadline,
                                                             const ResolveStarter* start = nullptr) {
  struct State {
    explicit State(boost::asio::io_context& i) : resolver(i), done(i) {}
    boost::asio::ip::tcp::resolver resolver;
    boost::asio::steady_timer done;  // expires at the deadline; cancelled when the lookup completes
    std::optional<ResolveOutcome> out;
  };
  auto st = std::make_shared<State>(ioc);
  st->done.expires_at(deadline);
  ResolveHandler on_done = [st](const boost::system::error_code& ec, ResolveResults r) {
    if (st->out) return;
    st->out = ResolveOutcome{ec, std::move(r)};
    st->done.cancel();
  };
  if (start && *start) {
    (*start)(st->resolver, on_done);
  } else {
    st->resolver.async_resolve(std::string(host), std::string(port),
                               [on_done](const boost::system::error_code& ec, ResolveResults r) { on_done(ec, r); });
  }
  if (!st->out) {  // a starter may complete at once; a cancel before the wait would not end it
    boost::system::error_code ec;
    co_await st->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  if (st->out) co_return *st->out;
  st->resolver.cancel();  // the lookup's handler still runs later (it holds st) and is ignored
  st->out = ResolveOutcome{boost::asio::error::timed_out, {}};
  co_return *st->out;
}

}  // namespace canary_guard::kube
