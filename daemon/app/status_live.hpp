#pragma once
// `canary-guard status --daemon URL`: asks the running daemon for its live metric analysis (GET URL/analysis) and
// merges it into the rows collected from the API. The merge and the column text are pure (unit-tested); only
// fetch_live_analysis does I/O. A daemon that cannot be reached or answers garbage costs the live values, never
// the rows.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "config/expected.hpp"
#include "daemon/app/analysis_json.hpp"
#include "daemon/app/status.hpp"

namespace canary_guard::app {

// GET base_url/analysis within `timeout`; an error text for anything but a 200 with a JSON array.
boost::asio::awaitable<Expected<std::vector<LiveEntry>, std::string>> fetch_live_analysis(
    boost::asio::io_context& ioc, std::string base_url, std::chrono::milliseconds timeout);

// For every row whose kind, namespace, name and current revision hash match an entry: checks_live and the CHECKS
// text from the live state. Rows without a match (another revision, not under analysis) keep the persisted window.
// Returns how many rows were merged.
std::size_t merge_live_analysis(std::vector<StatusRow>& rows, const std::vector<LiveEntry>& live);

// "error-ratio=PPF! last=0.031 pass, p99=! last=- no_data"; a tripped check ends in " tripped", one not evaluated
// yet reads "name=- not-evaluated".
std::string live_checks_column(const std::vector<LiveCheck>& checks);

}  // namespace canary_guard::app
