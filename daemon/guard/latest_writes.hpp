#pragma once
// LatestWrites: writes keyed by object where only the newest value matters (the canary-guard.io/analysis record
// of a revision). A thousand workloads under analysis change their records in the same round; writing each change
// as it comes would put a thousand requests in flight at once, and the heap they take stays with the process.
//
// Semantics:
//  - put(key, value): a value not yet written for `key` is replaced (coalesced: only the newest is sent);
//    otherwise the key is queued at the back.
//  - At most `workers` writes in flight, and never two for the same key, so they land in the order they were put.
//    A key put again while its write is in flight is written again after it.
//  - write() reports its own failures (logged by the caller's function); a failed write is not retried here: the
//    next put carries the state again.
//  - Single-threaded: every call on the io_context's one thread.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace canary_guard::guard {

class LatestWrites {
 public:
  using Write = std::function<boost::asio::awaitable<void>(const std::string& key, const std::string& value)>;
  LatestWrites(boost::asio::io_context& ioc, std::size_t workers, Write write)
      : ioc_(ioc), workers_(workers == 0 ? 1 : workers), write_(std::move(write)) {}
  LatestWrites(const LatestWrites&) = delete;
  LatestWrites& operator=(const LatestWrites&) = delete;

  void put(const std::string& key, std::string value);

  std::size_t pending() const noexcept { return pending_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_.size(); }
  std::size_t written() const noexcept { return written_; }

 private:
  boost::asio::awaitable<void> drain();

  boost::asio::io_context& ioc_;
  std::size_t workers_;
  Write write_;
  std::map<std::string, std::string, std::less<>> pending_;  // key -> newest value not yet sent
  std::deque<std::string> order_;                            // keys of pending_, oldest first
  std::set<std::string, std::less<>> in_flight_;
  std::size_t running_ = 0;
  std::size_t written_ = 0;
};

}  // namespace canary_guard::guard
