#pragma once
// list_views<View>(client, path): every object of a collection as its projection (kube::Decoder), read page by page
// (500 a page) with list_pages_raw: a restarted list (an expired continue token) starts over. An object the decoder
// cannot read is left out, never a crash. For the commands that read the cluster once (`status`, `explain`).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "daemon/kube/client.hpp"
#include "daemon/kube/projection.hpp"

namespace canary_guard::app {

template <class View>
boost::asio::awaitable<kube::Result<std::vector<View>>> list_views(kube::Client& c, std::string path) {
  kube::ListOptions opts;  // named: g++ 12 mishandles a braced temporary passed to a coroutine parameter
  kube::Decoder decoder;
  std::vector<View> out;
  auto r = co_await c.list_pages_raw(
      path, opts, 500, [&](std::string_view body, bool restarted) -> Expected<std::string, kube::Error> {
        if (restarted) out.clear();
        auto page = decoder.decode_list<View>(body);
        if (!page) return unexpected(kube::make_error(kube::ErrorKind::bad_data, page.error()));
        for (auto& v : page->items) out.push_back(std::move(v));  // unreadable objects: page->errors, left out
        return std::move(page->continue_token);
      });
  if (!r) co_return unexpected(r.error());
  co_return out;
}

}  // namespace canary_guard::app
