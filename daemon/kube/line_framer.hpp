#pragma once
// Splits a watch stream into event lines. The API server writes one JSON value per event followed by '\n', but
// HTTP chunks do not align with events, so bytes are buffered until a newline arrives. A line longer than
// max_line is bad data (a bound on memory, not a limit the server knows about).
#include <cstddef>
#include <string>
#include <string_view>

namespace canary_guard::kube {

class LineFramer {
 public:
  enum class Status { ok, stopped, too_long };

  explicit LineFramer(std::size_t max_line = 16u << 20) : max_line_(max_line) {}

  // Calls handler(std::string_view line) -> bool for each complete non-empty line in data (plus buffered bytes);
  // false from the handler stops framing and returns `stopped`.
  template <class Handler>
  Status feed(std::string_view data, Handler&& handler) {
    while (!data.empty()) {
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() + data.size() > max_line_) return Status::too_long;
        partial_.append(data);
        return Status::ok;
      }
      std::string_view line;
      if (partial_.empty()) {
        line = data.substr(0, nl);  // zero copy when the line arrived whole
      } else {
        if (partial_.size() + nl > max_line_) return Status::too_long;
        partial_.append(data.substr(0, nl));
        line = partial_;
      }
      data.remove_prefix(nl + 1);
      if (line.size() > max_line_) return Status::too_long;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      bool go_on = line.empty() ? true : static_cast<bool>(handler(line));
      partial_.clear();
      if (!go_on) return Status::stopped;
    }
    return Status::ok;
  }

  // Bytes of an unfinished line (a stream that ends here was truncated mid-event).
  std::size_t pending() const noexcept { return partial_.size(); }
  void reset() { partial_.clear(); }

 private:
  std::size_t max_line_;
  std::string partial_;
};

}  // namespace canary_guard::kube
