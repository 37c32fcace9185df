#include "config/duration.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace canary_guard::config {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ms;
};
// Largest first: the order components must appear in. "ms" must be tried before "m" when lexing.
constexpr std::array<Unit, 4> kUnits{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Error messages quote user input: keep it on one line and short.
std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < 32; ++i)
    out += (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7f) ? '?' : s[i];
  if (s.size() > 32) out += "...";
  return out + "\"";
}

}  // namespace

Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  if (text.empty()) return unexpected(std::string("empty duration (write e.g. \"30s\" or \"5m\")"));
  if (text.front() == '-') return unexpected(std::string("negative durations are not allowed"));
  if (text.front() == '+') return unexpected(std::string("a duration has no sign (write e.g. \"30s\")"));
  if (text.front() == ' ' || text.back() == ' ' || text.front() == '\t' || text.back() == '\t')
    return unexpected(std::string("leading or trailing whitespace in duration"));

  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i]))
      return unexpected("expected a number at " + in_quotes(text.substr(i)) + " (write e.g. \"1h30m\")");
    std::int64_t n = 0;
    bool overflow = false;
    while (i < text.size() && is_digit(text[i])) {
      const int digit = text[i] - '0';
      if (n > (kMax - digit) / 10) overflow = true;
      else n = n * 10 + digit;
      ++i;
    }
    if (overflow) return unexpected(std::string("duration out of range"));
    if (i < text.size() && (text[i] == '.' || text[i] == ','))
      return unexpected(std::string("fractions are not supported (write \"1h30m\", not \"1.5h\")"));
    std::size_t unit_end = i;
    while (unit_end < text.size() && is_alpha(text[unit_end])) ++unit_end;
    const std::string_view unit = text.substr(i, unit_end - i);
    if (unit.empty()) {
      if (i == text.size())
        return unexpected("missing unit after " + std::string(text.substr(0, i)) + " (use h, m, s or ms, e.g. \"" +
                          std::string(text) + "s\")");
      return unexpected("unexpected " + in_quotes(text.substr(i, 1)) + " in duration");
    }
    std::size_t u = 0;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) return unexpected("unknown unit " + in_quotes(unit) + " (use h, m, s or ms)");
    if (u < next_unit)
      return unexpected("units must go from largest to smallest, each at most once (e.g. \"1h30m\"), near " +
                        in_quotes(text.substr(i)));
    next_unit = u + 1;
    if (n > kMax / kUnits[u].ms) return unexpected(std::string("duration out of range"));
    const std::int64_t part = n * kUnits[u].ms;
    if (total > kMax - part) return unexpected(std::string("duration out of range"));
    total += part;
    i = unit_end;
  }
  return std::chrono::milliseconds{total};
}

std::optional<std::string> duration_limit_problem(std::chrono::milliseconds d, bool allow_zero) {
  if (d.count() < 0) return std::string("must not be negative");
  if (d.count() == 0 && !allow_zero) return std::string("must be greater than 0s");
  if (d.count() % 1000 != 0) return std::string("is not a whole number of seconds");
  if (d > kMaxConfigDuration) return std::string("is too long (at most 8760h, one year)");
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  // Work in unsigned so that the most negative value does not overflow on negation.
  std::uint64_t rest = ms < 0 ? std::uint64_t(0) - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  if (ms < 0) out += '-';
  for (const auto& unit : kUnits) {
    const std::uint64_t n = rest / static_cast<std::uint64_t>(unit.ms);
    if (n == 0) continue;
    out += std::to_string(n);
    out += unit.name;
    rest -= n * static_cast<std::uint64_t>(unit.ms);
  }
  return out;
}

}  // namespace canary_guard::config
