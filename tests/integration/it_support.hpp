#pragma once
// Helpers shared by the integration tests (they run against the sandbox's apiserver, Prometheus, Alertmanager).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace canary_guard::it {

// An environment variable, "" when unset.
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Runs one coroutine to completion on a private io_context and returns its value.
template <class T>
T run(boost::asio::io_context& ioc, boost::asio::awaitable<T> task) {
  std::optional<T> out;
  boost::asio::co_spawn(
      ioc, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); }, boost::asio::detached);
  ioc.restart();
  ioc.run();
  return std::move(*out);
}

}  // namespace canary_guard::it
