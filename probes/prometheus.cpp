#include "probes/json_limits.hpp"
#include "probes/prometheus.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

#include <simdjson.h>

namespace canary_guard::probes {
namespace {

QueryError make_error(ErrorClass cls, std::string type, std::string message) {
  return QueryError{cls, std::move(type), std::move(message)};
}

// A short, printable excerpt of a server answer for the error message (never a metric label).
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 120)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  if (body.size() > 120) out += "...";
  return out;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

ErrorClass class_for_http_status(int status) {
  // 5xx and 429 go away by themselves; everything else (404 wrong path, 401/403 auth, 3xx) needs an operator.
  return (status >= 500 || status == 429) ? ErrorClass::transient : ErrorClass::config;
}


bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Parsing runs on simdjson's DOM (libsimdjson-dev, as the watch decoder does): nlohmann's DOM parsed a 10,000-series
// answer at about 90 MB/s, short of the 200 MB/s target; the error-code API keeps it non-throwing.
namespace dom = simdjson::dom;

QueryError parse_error(std::string message) { return make_error(ErrorClass::parse, "parse", std::move(message)); }

// [t, "v"] -> Sample
Expected<Sample, QueryError> parse_pair(dom::element pair, std::string_view where) {
  dom::array arr;
  if (pair.get_array().get(arr) != simdjson::SUCCESS || arr.size() != 2)
    return unexpected(parse_error(std::string(where) + ": expected [time, \"value\"]"));
  double t = 0;
  std::string_view text;
  if (arr.at(0).get_double().get(t) != simdjson::SUCCESS || arr.at(1).get_string().get(text) != simdjson::SUCCESS)
    return unexpected(parse_error(std::string(where) + ": expected [time, \"value\"]"));
  auto v = parse_sample_value(text);
  if (!v) return unexpected(parse_error(std::string(where) + ": bad sample value \"" + excerpt(text) + "\""));
  return Sample{t, *v};
}

Expected<KeyValues, QueryError> parse_labels(dom::object item) {
  KeyValues labels;
  dom::element metric;
  if (item.at_key("metric").get(metric) != simdjson::SUCCESS || metric.is_null()) return labels;
  dom::object m;
  if (metric.get_object().get(m) != simdjson::SUCCESS) return unexpected(parse_error("metric is not an object"));
  labels.reserve(m.size());
  for (auto field : m) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) return unexpected(parse_error("label value is not a string"));
    labels.emplace_back(std::string(field.key), std::string(v));
  }
  return labels;
}

bool has_key(dom::object o, std::string_view key) { return o.at_key(key).error() == simdjson::SUCCESS; }

Expected<QueryResult, QueryError> parse_data(dom::element data_el) {
  dom::object data;
  if (data_el.get_object().get(data) != simdjson::SUCCESS) return unexpected(parse_error("data is not an object"));
  std::string_view type;
  if (data.at_key("resultType").get_string().get(type) != simdjson::SUCCESS)
    return unexpected(parse_error("data.resultType missing"));
  dom::element result;
  const bool has_result = data.at_key("result").get(result) == simdjson::SUCCESS && !result.is_null();

  QueryResult out;
  if (type == "string")
    return unexpected(make_error(ErrorClass::config, "unsupported_result", "query returned a string, not a number"));
  if (type == "scalar") {
    out.type = ResultType::scalar;
    if (!has_result) return out;  // R1.9: null is NO_DATA
    auto s = parse_pair(result, "scalar");
    if (!s) return unexpected(s.error());
    out.series.push_back(Series{{}, {*s}});
    return out;
  }
  const bool matrix = type == "matrix";
  if (!matrix && type != "vector") return unexpected(parse_error("unknown resultType \"" + excerpt(type) + "\""));
  out.type = matrix ? ResultType::matrix : ResultType::vector;
  if (!has_result) return out;
  dom::array items;
  if (result.get_array().get(items) != simdjson::SUCCESS) return unexpected(parse_error("result is not an array"));
  out.series.reserve(items.size());
  for (dom::element item_el : items) {
    dom::object item;
    if (item_el.get_object().get(item) != simdjson::SUCCESS) return unexpected(parse_error("result item is not an object"));
    if (has_key(item, "histogram") || has_key(item, "histograms"))
      return unexpected(make_error(ErrorClass::config, "unsupported_result", "native histogram in result (R1.4)"));
    auto labels = parse_labels(item);
    if (!labels) return unexpected(labels.error());
    Series series{std::move(*labels), {}};
    if (matrix) {
      dom::array values;
      if (item.at_key("values").get_array().get(values) != simdjson::SUCCESS)
        return unexpected(parse_error("matrix item without values"));
      series.samples.reserve(values.size());
      for (dom::element pair : values) {
        auto s = parse_pair(pair, "matrix value");
        if (!s) return unexpected(s.error());
        series.samples.push_back(*s);
      }
    } else {
      dom::element value;
      if (item.at_key("value").get(value) != simdjson::SUCCESS) return unexpected(parse_error("vector item without value"));
      auto s = parse_pair(value, "vector value");
      if (!s) return unexpected(s.error());
      series.samples.push_back(*s);
    }
    out.series.push_back(std::move(series));
  }
  return out;
}

Expected<QueryResult, QueryError> parse_impl(int http_status, std::string_view body, const ParseOptions& options) {
  if (body.size() > options.max_body_bytes)
    return unexpected(make_error(ErrorClass::parse, "too_large",
                                 "response body of " + std::to_string(body.size()) + " bytes exceeds the limit"));
  const bool depth_ok = json_depth_within(body, options.max_depth);
  thread_local dom::parser parser;  // buffers grow to the largest answer and are reused
  dom::element doc_el;
  dom::object doc;
  const bool parsed = depth_ok && parser.parse(body.data(), body.size()).get(doc_el) == simdjson::SUCCESS &&
                      doc_el.get_object().get(doc) == simdjson::SUCCESS;
  if (!parsed) {
    // Non-JSON: Prometheus starting (503 text/plain), unknown path (404), or a proxy's HTML page (502/504).
    if (!is_2xx(http_status))
      return unexpected(make_error(class_for_http_status(http_status), "http",
                                   "HTTP " + std::to_string(http_status) + ": " + excerpt(body)));
    return unexpected(parse_error(std::string(depth_ok ? "not a JSON object" : "JSON nested too deeply") + ": " +
                                  excerpt(body)));
  }
  std::string_view status;
  const bool has_status = doc.at_key("status").get_string().get(status) == simdjson::SUCCESS;
  if (has_status && status == "error") {
    std::string_view error_type, message;
    if (doc.at_key("errorType").get_string().get(error_type) != simdjson::SUCCESS) error_type = {};
    if (doc.at_key("error").get_string().get(message) != simdjson::SUCCESS) message = {};
    static constexpr std::string_view known[] = {"bad_data", "execution", "timeout", "canceled",
                                                 "internal", "unavailable", "not_found"};
    const bool is_known = std::find(std::begin(known), std::end(known), error_type) != std::end(known);
    return unexpected(make_error(classify_error_type(error_type), is_known ? std::string(error_type) : "unknown",
                                 "HTTP " + std::to_string(http_status) + " " + std::string(error_type) + ": " +
                                     std::string(message)));
  }
  if (!is_2xx(http_status))
    return unexpected(make_error(class_for_http_status(http_status), "http",
                                 "HTTP " + std::to_string(http_status) + ": " + excerpt(body)));
  if (!has_status || status != "success") return unexpected(parse_error("status is not \"success\""));

  std::vector<std::string> warnings;
  dom::element w;
  if (doc.at_key("warnings").get(w) == simdjson::SUCCESS && !w.is_null()) {
    dom::array wa;
    if (w.get_array().get(wa) != simdjson::SUCCESS) return unexpected(parse_error("warnings is not an array"));
    for (dom::element item : wa) {
      std::string_view text;
      warnings.emplace_back(item.get_string().get(text) == simdjson::SUCCESS ? std::string(text) : std::string("?"));
    }
  }
  if (!warnings.empty() && !options.accept_warnings) {
    std::string joined;
    for (const auto& x : warnings) joined += (joined.empty() ? "" : "; ") + x;
    return unexpected(make_error(ErrorClass::partial, "partial", "partial data: " + joined));
  }
  dom::element data;
  if (doc.at_key("data").get(data) != simdjson::SUCCESS) return unexpected(parse_error("data missing"));
  auto result = parse_data(data);
  if (!result) return result;
  result->warnings = std::move(warnings);
  return result;
}

}  // namespace

std::string_view to_string(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::config: return "config";
    case ErrorClass::transient: return "transient";
    case ErrorClass::partial: return "partial";
    case ErrorClass::parse: return "parse";
  }
  return "parse";
}

ErrorClass classify_error_type(std::string_view t) noexcept {
  if (t == "bad_data" || t == "execution" || t == "not_found") return ErrorClass::config;
  return ErrorClass::transient;  // timeout, canceled, internal, unavailable, and anything unknown
}

std::optional<double> parse_sample_value(std::string_view s) {
  if (iequals(s, "NaN")) return std::numeric_limits<double>::quiet_NaN();
  if (iequals(s, "+Inf") || iequals(s, "Inf") || iequals(s, "+Infinity") || iequals(s, "Infinity"))
    return std::numeric_limits<double>::infinity();
  if (iequals(s, "-Inf") || iequals(s, "-Infinity")) return -std::numeric_limits<double>::infinity();
  // std::from_chars rejects a leading '+' (R1.6); Go's ParseFloat accepts it, so strip it before a digit.
  if (s.size() >= 2 && s[0] == '+' && ((s[1] >= '0' && s[1] <= '9') || s[1] == '.')) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  if (!std::isfinite(v)) return std::nullopt;  // spelled-out specials are handled above; "nan(123)" is not a sample
  return v;
}

Expected<QueryResult, QueryError> parse_query_response(int http_status, std::string_view body,
                                                       const ParseOptions& options) {
  try {
    return parse_impl(http_status, body, options);
  } catch (const std::exception& e) {  // bad_alloc and friends: still an ERROR, never an escape
    return unexpected(make_error(ErrorClass::parse, "parse", std::string("internal: ") + e.what()));
  }
}

ProbeResult to_probe_result(const QueryError& e) {
  return ProbeResult::error(std::string(to_string(e.cls)), e.type + ": " + e.message);
}

std::optional<double> sum_of_values(const QueryResult& r) {
  std::optional<double> sum;
  for (const Series& s : r.series) {
    if (s.samples.empty() || std::isnan(s.samples.back().value)) continue;
    sum = sum.value_or(0.0) + s.samples.back().value;
  }
  return sum;
}

ThresholdEvaluation evaluate_threshold(const QueryResult& r, const Threshold& t,
                                       std::optional<MinSamples> min_samples) {
  ThresholdEvaluation ev;
  if (!t.min && !t.max) {
    ev.result = ProbeResult::error("config", "threshold has neither min nor max");
    return ev;
  }
  if (min_samples && (!min_samples->observed || !(*min_samples->observed >= min_samples->required))) {
    ev.result = ProbeResult::no_data(
        "min_samples", min_samples->observed ? "samples " + std::to_string(*min_samples->observed) + " < " +
                                                   std::to_string(min_samples->required)
                                             : "min_samples query returned no data");
    return ev;
  }
  std::string first_fail;
  for (const Series& s : r.series) {
    if (s.samples.empty()) continue;
    const double v = s.samples.back().value;
    if (std::isnan(v)) {
      ++ev.series_nan;
      continue;
    }
    ++ev.series_judged;
    // Inclusive pass (R2.5); +-Inf compare by IEEE rules.
    const bool below = t.min && v < *t.min;
    const bool above = t.max && v > *t.max;
    if (below || above) {
      ++ev.series_failed;
      if (first_fail.empty()) {
        first_fail = "value " + std::to_string(v) + (below ? " < min " + std::to_string(*t.min)
                                                           : " > max " + std::to_string(*t.max));
        if (!s.labels.empty()) {
          first_fail += " for {";
          for (std::size_t i = 0; i < s.labels.size(); ++i)
            first_fail += (i ? "," : "") + s.labels[i].first + "=\"" + s.labels[i].second + "\"";
          first_fail += "}";
        }
      }
    }
    // Worst value: the one nearest to (or furthest past) the bound that matters.
    if (!ev.value) ev.value = v;
    else if (t.max) ev.value = std::max(*ev.value, v);
    else ev.value = std::min(*ev.value, v);
  }
  if (ev.series_judged == 0) {
    ev.result = r.series.empty() ? ProbeResult::no_data("empty", "query returned no series")
                                 : ProbeResult::no_data("nan", "every series is NaN");
    return ev;
  }
  if (ev.series_failed > 0) {
    std::string detail = first_fail;
    if (ev.series_failed > 1) detail += " (" + std::to_string(ev.series_failed) + " series failed)";
    ev.result = ProbeResult::fail("threshold", std::move(detail));
  } else {
    ev.result = ProbeResult::pass("within_threshold", std::to_string(ev.series_judged) + " series within threshold");
  }
  return ev;
}

KOfNWindow::KOfNWindow(int k, int n) : k_(k), n_(n) {
  if (n_ < 1) n_ = 1;
  if (k_ < 1) k_ = 1;
  if (k_ > n_) k_ = n_;
}

bool KOfNWindow::add(Outcome o) {
  if (!is_decisive(o)) return tripped();
  const bool fail = o == Outcome::fail;
  window_.push_back(fail);
  fails_ += fail ? 1 : 0;
  if (static_cast<int>(window_.size()) > n_) {
    fails_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  return tripped();
}

void KOfNWindow::clear() noexcept {
  window_.clear();
  fails_ = 0;
}

std::string escape_promql_string(std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

Expected<std::string, TemplateError> render_promql(std::string_view tmpl, const TemplateVars& vars) {
  std::string out;
  out.reserve(tmpl.size());
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size() || tmpl[i + 1] != '{') {
      out += tmpl[i];
      continue;
    }
    const std::size_t close = tmpl.find('}', i + 2);
    if (close == std::string_view::npos) return unexpected(TemplateError{i, "unterminated ${"});
    const std::string_view name = tmpl.substr(i + 2, close - i - 2);
    if (name.empty()) return unexpected(TemplateError{i, "empty variable name"});
    for (char c : name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.';
      if (!ok) return unexpected(TemplateError{i, "invalid variable name \"" + std::string(name) + "\""});
    }
    auto it = vars.find(name);
    if (it == vars.end()) return unexpected(TemplateError{i, "unknown variable \"" + std::string(name) + "\""});
    out += escape_promql_string(it->second);
    i = close;
  }
  return out;
}

}  // namespace canary_guard::probes
