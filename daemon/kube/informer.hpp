#pragma once
// Informer<View>: keeps a projected cache of one resource in sync with the API server, as client-go's reflector
// does: LIST (what the watch cache can serve first, a paged consistent read when that is needed: plan_relist), then
// WATCH from the list's resourceVersion with bookmarks and a jittered 40-50 s timeout (short, so that a live stream
// always speaks within the liveness bound, liveness.hpp); re-watch from the last RV when a stream ends; relist on
// 410 Gone (HTTP or ERROR event) or when asked (request_relist); reconnect with jittered exponential backoff
// (0.5 s .. 30 s) on other errors. live() says whether the cache can be taken as current. A relist diffs against the
// cache so objects that vanished while we were away produce on_delete. Handlers only see keys and projected views;
// they are meant to enqueue keys (daemon/kube/work_queue.hpp), not to do work. Owned by the daemon wiring; one
// thread.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/clock.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/liveness.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"

namespace canary_guard::kube {

struct InformerOptions {
  std::string path;  // collection path, e.g. paths::deployments() or paths::pods("shop")
  std::string label_selector;
  std::string field_selector;
  int page_limit = 500;
  int watch_timeout_min_s = 40;
  int watch_timeout_max_s = 50;
  Duration liveness_bound{std::chrono::seconds{60}};  // see liveness.hpp; must exceed watch_timeout_max_s + 10 s
  const MonotonicClock* clock = nullptr;              // null: the steady clock
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30'000};
};

struct InformerStats {
  std::uint64_t relists = 0;
  std::uint64_t cache_lists = 0;   // relist attempts the watch cache can serve (RV=0, or RV=N NotOlderThan)
  std::uint64_t quorum_lists = 0;  // paged consistent reads from etcd (RV unset)
  std::uint64_t watches = 0;
  std::uint64_t events = 0;
  std::uint64_t bookmarks = 0;
  std::uint64_t decode_errors = 0;  // lines or objects we could not project (skipped)
  std::uint64_t errors = 0;         // failed list/watch calls
};

// Backoff schedule shared by informers: doubles from min to max, each wait jittered down by up to 20 %.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max), next_(min) {}
  std::chrono::milliseconds next(std::mt19937& rng) {
    auto cur = next_;
    next_ = std::min(max_, next_ * 2);
    double f = std::uniform_real_distribution<double>(0.8, 1.0)(rng);
    return std::chrono::milliseconds{static_cast<long long>(static_cast<double>(cur.count()) * f)};
  }
  void reset() { next_ = min_; }
  std::chrono::milliseconds peek() const { return next_; }

 private:
  std::chrono::milliseconds min_, max_, next_;
};

inline constexpr Duration kVeryShortWatch{std::chrono::seconds{1}};

// What one relist asks the apiserver for, as client-go's reflector chooses it (relistResourceVersion): what the
// watch cache can serve, not a quorum read from etcd each time.
struct RelistRequest {
  std::string resource_version;        // "0" | last synced RV | "" (consistent read)
  std::string resource_version_match;  // "" | "NotOlderThan"
  int page_limit = 0;                  // 0: one response
  bool from_cache() const { return !resource_version.empty(); }
};

// - first list: RV=0, any state the watch cache holds;
// - later relists: the last synced RV with NotOlderThan (never older than what we had);
// - a consistent read (RV unset), paged, when one is needed: after 410 Gone (our RV is older than the server's
//   window) and when a fresh read disagreed with the cache (request_relist), or when the cache's answer was over the
//   body cap. The watch-cache lists carry no limit: apiserver 1.20 serves RV=0 from the cache in one response
//   whatever the limit, and sends RV=N with a limit to etcd (storage/cacher: shouldDelegateList), so a limit would
//   only turn it into a quorum read. Such a response is bounded by the client's body cap; when it is over, the
//   relist falls back to the paged consistent read (pages halved on the cap: Client::list_pages_raw) and keeps to
//   it (`unpaged_too_large`), so memory stays bounded by the cap.
inline RelistRequest plan_relist(const std::string& last_synced_rv, bool need_consistent, bool unpaged_too_large,
                                 int page_limit) {
  if (need_consistent || unpaged_too_large) return {"", "", page_limit};
  if (last_synced_rv.empty()) return {"0", "", 0};
  return {last_synced_rv, "NotOlderThan", 0};
}

template <class View>
class Informer {
 public:
  using value_type = View;
  using Handler = std::function<void(const std::string& key, const View* obj)>;

  Informer(Client& client, InformerOptions opts)
      : client_(client), opts_(std::move(opts)), clock_(opts_.clock ? opts_.clock : &steady_), liveness_(opts_.liveness_bound) {}

  void on_add(Handler h) { on_add_ = std::move(h); }
  void on_update(Handler h) { on_update_ = std::move(h); }
  void on_delete(Handler h) { on_delete_ = std::move(h); }  // gets the final (or last known) state

  bool has_synced() const noexcept { return synced_; }
  // The cache shows the cluster as it is now, within the liveness bound (liveness.hpp).
  bool live() const { return liveness_.live(clock_->elapsed()); }
  // Empty when live; otherwise why not, one phrase.
  std::string why_not_live() const { return liveness_.why_not(clock_->elapsed()); }
  const std::string& path() const noexcept { return opts_.path; }
  // Lists again soon (a fresh read disagreed with the cache): at once between watches, else when the open watch
  // next delivers or ends.
  void request_relist() {
    relist_requested_ = true;
    need_consistent_ = true;  // the cache disagreed with a consistent read: so may the watch cache
    if (timer_) timer_->cancel();
  }
  const View* find(const std::string& key) const {
    auto it = cache_.find(key);
    return it == cache_.end() ? nullptr : &it->second;
  }
  const std::unordered_map<std::string, View>& cache() const noexcept { return cache_; }
  const std::string& resource_version() const noexcept { return rv_; }
  const InformerStats& stats() const noexcept { return stats_; }

  // Runs until stop(). Never throws for API problems. Call Client::cancel_watches() as well to end a running
  // watch at once instead of at its next event.
  boost::asio::awaitable<void> run() {
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(executor);
    timer_ = &timer;
    running_ = true;
    Backoff backoff(opts_.backoff_min, opts_.backoff_max);
    bool need_list = true;
    while (!stopped_) {
      if (relist_requested_) {
        relist_requested_ = false;
        need_list = true;
        spdlog::info("informer=\"{}\" event=relist reason=requested", opts_.path);
      }
      if (need_list) {
        auto r = co_await relist();
        if (stopped_) break;
        if (!r) {
          ++stats_.errors;
          liveness_.failed("list failed: " + describe(r.error()));
          spdlog::warn("informer=\"{}\" event=list_failed {}", opts_.path, describe(r.error()));
          co_await sleep(timer, backoff.next(rng_));
          continue;
        }
        need_list = false;
        backoff.reset();
      }
      if (stopped_) break;
      WatchOptions w;
      w.resource_version = rv_;
      w.allow_bookmarks = true;
      w.timeout_seconds =
          std::uniform_int_distribution<int>(opts_.watch_timeout_min_s, opts_.watch_timeout_max_s)(rng_);
      w.label_selector = opts_.label_selector;
      w.field_selector = opts_.field_selector;
      w.on_established = [this] { liveness_.alive(clock_->elapsed()); };
      ++stats_.watches;
      std::optional<Error> event_error;
      std::uint64_t before = stats_.events;
      const Duration watch_started = clock_->elapsed();
      auto r = co_await client_.watch(opts_.path, w, [&](std::string_view line) {
        auto a = apply_line(line);
        if (!a) {
          event_error = a.error();
          return false;
        }
        liveness_.alive(clock_->elapsed());
        return !stopped_ && !relist_requested_;
      });
      if (stopped_) break;
      std::optional<Error> err = event_error ? event_error : (!r ? std::optional<Error>(r.error()) : std::nullopt);
      if (!err) {
        if (!relist_requested_) liveness_.alive(clock_->elapsed());
        if (!relist_requested_ && stats_.events == before && clock_->elapsed() - watch_started < kVeryShortWatch) {
          // A stream that ends within a second with nothing in it (a proxy or server closing at once) is retried
          // with backoff, as the reflector does for a "very short watch", never in a hot loop.
          auto delay = backoff.next(rng_);
          spdlog::warn("informer=\"{}\" event=very_short_watch retry_in_ms={}", opts_.path, delay.count());
          co_await sleep(timer, delay);
          continue;
        }
        backoff.reset();  // clean end of stream (timeoutSeconds): re-watch from the last RV at once
        continue;
      }
      if (event_error && event_error->kind == ErrorKind::bad_data) {
        // An event we could not project: skipping it would leave the cache silently wrong about that object (and
        // the next event for it may never come). End the watch and relist; the relist keeps what it cannot read.
        ++stats_.errors;
        liveness_.failed("watch event could not be read: relisting");
        spdlog::warn("informer=\"{}\" event=relist reason=undecodable_event {}", opts_.path, describe(*err));
        need_list = true;
        co_await sleep(timer, backoff.next(rng_));
        continue;
      }
      if (err->kind == ErrorKind::gone) {
        spdlog::info("informer=\"{}\" event=relist reason=gone rv={}", opts_.path, rv_);
        liveness_.failed("watch expired (410 Gone): relisting");
        need_list = true;
        need_consistent_ = true;  // our RV fell out of the server's window: read the current state
        continue;
      }
      ++stats_.errors;
      liveness_.failed("watch failed: " + describe(*err));
      if (stats_.events > before) backoff.reset();  // it worked for a while: start gently again
      auto delay = backoff.next(rng_);
      spdlog::warn("informer=\"{}\" event=watch_failed retry_in_ms={} {}", opts_.path, delay.count(), describe(*err));
      co_await sleep(timer, delay);
    }
    timer_ = nullptr;
    running_ = false;
  }

  // True while run() has not returned (its coroutine frame refers to this object).
  bool running() const noexcept { return running_; }

  void stop() {
    stopped_ = true;
    if (timer_) timer_->cancel();
  }

  // --- building blocks, public so unit tests can drive the cache without a server -----------------------------

  // Relist result: replaces the cache, calling on_add / on_update (RV changed) / on_delete (vanished). When the
  // list was not `complete` (some items did not project), an object missing from it may be one of those: it stays
  // in the cache as it was and is never reported deleted (that would erase the guard's state for a live workload).
  void replace(std::vector<View> items, std::string list_rv, bool complete = true) {
    std::unordered_map<std::string, View> next;
    next.reserve(items.size());
    for (auto& v : items) {
      std::string key = object_key(v.meta);
      next.insert_or_assign(std::move(key), std::move(v));
    }
    std::swap(cache_, next);  // `next` now holds the old cache
    for (auto& [key, obj] : cache_) {
      auto old = next.find(key);
      if (old == next.end()) {
        if (on_add_) on_add_(key, &obj);
      } else {
        if (old->second.meta.resource_version != obj.meta.resource_version && on_update_) on_update_(key, &obj);
        next.erase(old);
      }
    }
    for (auto& [key, obj] : next) {
      if (!complete) {
        cache_.insert_or_assign(key, std::move(obj));
        continue;
      }
      if (on_delete_) on_delete_(key, &obj);
    }
    rv_ = std::move(list_rv);
    synced_ = true;
    liveness_.listed(clock_->elapsed());
  }

  // One watch line. An Error for ERROR events (the caller relists on gone) and for a line that does not project
  // (bad_data: the caller ends the watch and relists rather than skip an object's change).
  Result<Ok> apply_line(std::string_view line) {
    auto ev = decoder_.decode_event<View>(line);
    if (!ev) {
      ++stats_.decode_errors;
      spdlog::warn("informer=\"{}\" event=decode_failed error=\"{}\"", opts_.path, ev.error());
      return unexpected(make_error(ErrorKind::bad_data, "watch event: " + ev.error()));
    }
    switch (ev->type) {
      case EventType::error:
        return unexpected(std::move(ev->error));
      case EventType::bookmark:
        ++stats_.bookmarks;
        rv_ = std::move(ev->resource_version);
        return Ok{};
      case EventType::added:
      case EventType::modified: {
        ++stats_.events;
        std::string key = object_key(ev->object.meta);
        rv_ = ev->resource_version;
        auto [it, inserted] = cache_.insert_or_assign(key, std::move(ev->object));
        const Handler& h = inserted ? on_add_ : on_update_;
        if (h) h(key, &it->second);
        return Ok{};
      }
      case EventType::deleted: {
        ++stats_.events;
        std::string key = object_key(ev->object.meta);
        rv_ = ev->resource_version;
        cache_.erase(key);
        // The DELETED event carries the final state (as client-go hands it to OnDelete).
        if (on_delete_) on_delete_(key, &ev->object);
        return Ok{};
      }
    }
    return Ok{};
  }

 private:
  // One relist as plan_relist() says; a failed cache list falls back to the paged consistent read at once.
  boost::asio::awaitable<Result<Ok>> relist() {
    ++stats_.relists;
    RelistRequest plan =
        plan_relist(synced_ ? rv_ : std::string(), need_consistent_, unpaged_too_large_, opts_.page_limit);
    auto r = co_await list_once(plan);
    // Any answer but a broken connection (over the cap, 410, "too large resource version" after an etcd restore)
    // is retried as a consistent read, so a relist never fails the same way for ever on the cache's account.
    if (!r && plan.from_cache() && r.error().kind != ErrorKind::transport) {
      if (r.error().reason == kBodyTooLarge) {
        unpaged_too_large_ = true;
        spdlog::info("informer=\"{}\" event=cache_list_too_large fallback=paged_consistent_list", opts_.path);
      }
      plan = plan_relist(rv_, true, unpaged_too_large_, opts_.page_limit);
      r = co_await list_once(plan);
    }
    if (r) need_consistent_ = false;
    co_return r;
  }

  boost::asio::awaitable<Result<Ok>> list_once(const RelistRequest& plan) {
    if (plan.from_cache()) ++stats_.cache_lists;
    else ++stats_.quorum_lists;
    ListOptions lo;
    lo.label_selector = opts_.label_selector;
    lo.field_selector = opts_.field_selector;
    lo.resource_version = plan.resource_version;
    lo.resource_version_match = plan.resource_version_match;
    std::vector<View> items;
    std::string list_rv;
    bool complete = true;
    // A decoder of its own: its buffers grow to a whole page and are freed when the relist ends, while decoder_
    // stays sized for single watch events.
    Decoder pages;
    auto r = co_await client_.list_pages_raw(
        opts_.path, lo, plan.page_limit,
        [&](std::string_view body, bool restarted) -> Expected<std::string, Error> {
          if (restarted) items.clear();
          auto page = pages.decode_list<View>(body);
          if (!page) return unexpected(make_error(ErrorKind::bad_data, page.error()));
          if (page->resource_version) list_rv = std::move(*page->resource_version);
          for (const auto& e : page->errors) {
            complete = false;
            ++stats_.decode_errors;
            spdlog::warn("informer=\"{}\" event=decode_failed error=\"{}\"", opts_.path, e);
          }
          if (items.empty()) items = std::move(page->items);
          else std::move(page->items.begin(), page->items.end(), std::back_inserter(items));
          return std::move(page->continue_token);
        });
    if (!r) co_return unexpected(r.error());
    if (list_rv.empty()) co_return unexpected(make_error(ErrorKind::bad_data, "list without resourceVersion"));
    replace(std::move(items), std::move(list_rv), complete);
    co_return Ok{};
  }

  boost::asio::awaitable<void> sleep(boost::asio::steady_timer& timer, std::chrono::milliseconds d) {
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

  Client& client_;
  InformerOptions opts_;
  SteadyClock steady_;
  const MonotonicClock* clock_;
  Liveness liveness_;
  bool relist_requested_ = false;
  bool need_consistent_ = false;    // the next relist reads from etcd (plan_relist)
  bool unpaged_too_large_ = false;  // the cache's one-response list was over the body cap: page from now on
  Decoder decoder_;  // watch lines; reused so each event costs no parser allocation
  std::unordered_map<std::string, View> cache_;
  std::string rv_;
  bool synced_ = false;
  bool stopped_ = false;
  bool running_ = false;
  boost::asio::steady_timer* timer_ = nullptr;
  Handler on_add_, on_update_, on_delete_;
  InformerStats stats_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace canary_guard::kube
