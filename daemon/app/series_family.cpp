#include "daemon/app/series_family.hpp"

#include <charconv>
#include <cmath>

namespace canary_guard::app {

void append_sample_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  // Whole numbers (counters, Unix seconds) as integers, as client libraries print them; others shortest round-trip.
  auto [p, ec] = v == std::floor(v) && std::fabs(v) < 1e15
                     ? std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v))
                     : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? p : buf);
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

namespace {
std::string header(const std::string& name, std::string_view help, SeriesFamily::Type type) {
  std::string h = "# HELP " + name + " ";
  for (char c : help) {
    if (c == '\\') h += "\\\\";
    else if (c == '\n') h += "\\n";
    else h += c;
  }
  h += "\n# TYPE " + name + (type == SeriesFamily::Type::counter ? " counter\n" : " gauge\n");
  return h;
}
}  // namespace

SeriesFamily::SeriesFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), header_(header(name_, help, type)), label_names_(std::move(label_names)) {}

std::optional<std::string> SeriesFamily::key(Values values) const {
  if (values.size() != label_names_.size()) return std::nullopt;
  std::string k;
  for (auto v : values) {
    k.append(v);
    k += '\0';
  }
  return k;
}

SeriesFamily::Series& SeriesFamily::series(const std::string& k, Values values) {
  auto [it, inserted] = series_.try_emplace(k);
  if (inserted) {
    std::string& p = it->second.prefix;
    p = name_;
    p += '{';
    std::size_t i = 0;
    for (auto v : values) {
      if (i) p += ',';
      p += label_names_[i++];
      p += "=\"";
      append_label_value(p, v);
      p += '"';
    }
    p += "} ";
  }
  return it->second;
}

void SeriesFamily::add(Values values) {
  auto k = key(values);
  if (!k) return;
  std::lock_guard lock(mu_);
  series(*k, values);
}

void SeriesFamily::inc(Values values, double by) {
  auto k = key(values);
  if (!k || !(by >= 0)) return;  // a counter only goes up (prometheus-cpp ignores a negative increment too)
  std::lock_guard lock(mu_);
  series(*k, values).value += by;
}

void SeriesFamily::set(Values values, double value) {
  auto k = key(values);
  if (!k) return;
  std::lock_guard lock(mu_);
  series(*k, values).value = value;
}

bool SeriesFamily::set_existing(Values values, double value) {
  auto k = key(values);
  if (!k) return false;
  std::lock_guard lock(mu_);
  auto it = series_.find(*k);
  if (it == series_.end()) return false;
  it->second.value = value;
  return true;
}

bool SeriesFamily::remove(Values values) {
  auto k = key(values);
  if (!k) return false;
  std::lock_guard lock(mu_);
  return series_.erase(*k) > 0;
}

namespace {
std::string joined(SeriesFamily::Values prefix) {
  std::string p;
  for (auto v : prefix) {
    p.append(v);
    p += '\0';
  }
  return p;
}
}  // namespace

bool SeriesFamily::has_prefix(Values prefix) const {
  if (prefix.size() > label_names_.size()) return false;
  const std::string p = joined(prefix);
  std::lock_guard lock(mu_);
  auto it = series_.lower_bound(p);
  return it != series_.end() && it->first.compare(0, p.size(), p) == 0;
}

std::size_t SeriesFamily::remove_prefix(Values prefix) {
  if (prefix.size() > label_names_.size()) return 0;
  const std::string p = joined(prefix);
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  // Keys sort by their values in label order: the matching ones are one contiguous range.
  for (auto it = series_.lower_bound(p); it != series_.end() && it->first.compare(0, p.size(), p) == 0; ++n)
    it = series_.erase(it);
  return n;
}

std::size_t SeriesFamily::remove_workload(std::string_view ns, std::string_view workload, std::string_view kind) {
  if (label_names_.size() < 2 || label_names_[0] != "namespace" || label_names_[1] != "workload") return 0;
  std::size_t kind_at = 0;  // 0: no kind label
  for (std::size_t i = 2; i < label_names_.size(); ++i)
    if (label_names_[i] == "kind") kind_at = i;
  const std::string p = joined({ns, workload});
  // The value at label position `i` of a key (values joined by '\0', each followed by one).
  auto value_at = [](const std::string& k, std::size_t i) {
    std::size_t begin = 0;
    while (i-- > 0) begin = k.find('\0', begin) + 1;
    return std::string_view(k).substr(begin, k.find('\0', begin) - begin);
  };
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto it = series_.lower_bound(p); it != series_.end() && it->first.compare(0, p.size(), p) == 0;) {
    if (kind_at != 0 && value_at(it->first, kind_at) != kind) {
      ++it;
      continue;
    }
    it = series_.erase(it);
    ++n;
  }
  return n;
}

void SeriesFamily::render(std::string& out) const {
  std::lock_guard lock(mu_);
  out += header_;
  for (const auto& [k, s] : series_) {
    out += s.prefix;
    append_sample_value(out, s.value);
    out += '\n';
  }
}

std::optional<double> SeriesFamily::value(Values values) const {
  auto k = key(values);
  if (!k) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = series_.find(*k);
  if (it == series_.end()) return std::nullopt;
  return it->second.value;
}

std::size_t SeriesFamily::size() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

}  // namespace canary_guard::app
