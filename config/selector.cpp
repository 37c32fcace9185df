#include "config/selector.hpp"

#include <algorithm>

namespace canary_guard::config {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_label_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_dns1123_label(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

enum class Tok { end, ident, bang, eq, eqeq, neq, lparen, rparen, comma, in, notin };

struct Token {
  Tok kind = Tok::end;
  std::string_view text;
  std::size_t offset = 0;
};

bool is_special(char c) { return c == '!' || c == '=' || c == '(' || c == ')' || c == ','; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits the selector into tokens the way the Kubernetes lexer does: identifiers run until whitespace or one
// of ! = ( ) , and "in"/"notin" are keywords only where an operator is expected.
std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) {
      out.push_back({Tok::end, {}, i});
      return out;
    }
    const char c = s[i];
    const bool two = i + 1 < s.size() && s[i + 1] == '=';
    if (c == '!' && two) {
      out.push_back({Tok::neq, s.substr(i, 2), i});
      i += 2;
    } else if (c == '=' && two) {
      out.push_back({Tok::eqeq, s.substr(i, 2), i});
      i += 2;
    } else if (is_special(c)) {
      const Tok k = c == '!' ? Tok::bang : c == '=' ? Tok::eq : c == '(' ? Tok::lparen : c == ')' ? Tok::rparen : Tok::comma;
      out.push_back({k, s.substr(i, 1), i});
      ++i;
    } else {
      const std::size_t start = i;
      while (i < s.size() && !is_space(s[i]) && !is_special(s[i])) ++i;
      const std::string_view word = s.substr(start, i - start);
      const Tok k = word == "in" ? Tok::in : word == "notin" ? Tok::notin : Tok::ident;
      out.push_back({k, word, start});
    }
  }
}

std::string describe(const Token& t) {
  if (t.kind == Tok::end) return "end of selector";
  return "\"" + std::string(t.text) + "\"";
}

// Recursive-descent parser over the token list; the first error stops it (positions after it mean little).
class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  Expected<std::vector<Requirement>, SelectorError> run() {
    std::vector<Requirement> reqs;
    if (peek().kind == Tok::end) return reqs;
    while (true) {
      auto r = requirement();
      if (!r) return unexpected(r.error());
      reqs.push_back(std::move(*r));
      const Token t = next();
      if (t.kind == Tok::end) return reqs;
      if (t.kind != Tok::comma) return fail(t, "expected \",\" or end of selector, found " + describe(t));
      if (peek().kind == Tok::end) return fail(peek(), "expected a requirement after \",\"");
    }
  }

 private:
  const Token& peek() const { return toks_[pos_]; }
  Token next() { return pos_ + 1 < toks_.size() ? toks_[pos_++] : toks_[pos_]; }
  static Unexpected<SelectorError> fail(const Token& t, std::string msg) { return unexpected(SelectorError{t.offset, std::move(msg)}); }

  // In value positions keywords are ordinary words ("a=in" is a valid selector).
  static bool is_word(const Token& t) { return t.kind == Tok::ident || t.kind == Tok::in || t.kind == Tok::notin; }

  Expected<std::string, SelectorError> key() {
    const Token t = next();
    if (!is_word(t)) return fail(t, "expected a label key, found " + describe(t));
    if (!is_qualified_label_key(t.text))
      return fail(t, "invalid label key \"" + std::string(t.text) +
                         "\" (name: up to 63 of [A-Za-z0-9_.-], alphanumeric at both ends; optional DNS prefix/)");
    return std::string(t.text);
  }

  Expected<std::string, SelectorError> value(const Token& t) {
    if (!is_label_value(t.text))
      return fail(t, "invalid label value \"" + std::string(t.text) +
                         "\" (up to 63 of [A-Za-z0-9_.-], alphanumeric at both ends)");
    return std::string(t.text);
  }

  Expected<Requirement, SelectorError> requirement() {
    Requirement r;
    if (peek().kind == Tok::bang) {
      next();
      auto k = key();
      if (!k) return unexpected(k.error());
      r.key = std::move(*k);
      r.op = SelectorOp::does_not_exist;
      return r;
    }
    auto k = key();
    if (!k) return unexpected(k.error());
    r.key = std::move(*k);
    const Token op = peek();
    switch (op.kind) {
      case Tok::end:
      case Tok::comma:
        r.op = SelectorOp::exists;
        return r;
      case Tok::eq:
      case Tok::eqeq:
      case Tok::neq: {
        next();
        r.op = op.kind == Tok::neq ? SelectorOp::not_equals : SelectorOp::equals;
        const Token v = peek();
        if (v.kind == Tok::end || v.kind == Tok::comma) {
          r.values.emplace_back();  // "a=" selects an empty value, as in Kubernetes
          return r;
        }
        if (!is_word(v)) return fail(v, "expected a label value, found " + describe(v));
        next();
        auto val = value(v);
        if (!val) return unexpected(val.error());
        r.values.push_back(std::move(*val));
        return r;
      }
      case Tok::in:
      case Tok::notin:
        next();
        r.op = op.kind == Tok::in ? SelectorOp::in : SelectorOp::not_in;
        return value_set(std::move(r));
      default:
        if (op.kind == Tok::ident && (op.text.front() == '>' || op.text.front() == '<'))
          return fail(op, "operators > and < are not supported in workload label selectors");
        return fail(op, "expected an operator (=, ==, !=, in, notin), \",\" or end of selector, found " + describe(op));
    }
  }

  Expected<Requirement, SelectorError> value_set(Requirement r) {
    const Token open = next();
    if (open.kind != Tok::lparen) return fail(open, "expected \"(\" after " + std::string(r.op == SelectorOp::in ? "in" : "notin") + ", found " + describe(open));
    if (peek().kind == Tok::rparen) return fail(peek(), "empty value list");
    while (true) {
      const Token v = next();
      if (!is_word(v)) return fail(v, "expected a label value, found " + describe(v));
      auto val = value(v);
      if (!val) return unexpected(val.error());
      if (std::find(r.values.begin(), r.values.end(), *val) == r.values.end()) r.values.push_back(std::move(*val));
      const Token sep = next();
      if (sep.kind == Tok::rparen) return r;
      if (sep.kind != Tok::comma) return fail(sep, "expected \",\" or \")\" in value list, found " + describe(sep));
    }
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
};

const std::string* find_label(const KeyValues& labels, std::string_view key) {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_qualified_label_key(std::string_view key) {
  const std::size_t slash = key.find('/');
  if (slash == std::string_view::npos) return is_label_name(key);
  if (key.find('/', slash + 1) != std::string_view::npos) return false;
  return is_dns1123_subdomain(key.substr(0, slash)) && is_label_name(key.substr(slash + 1));
}

bool is_label_value(std::string_view value) { return value.empty() || is_label_name(value); }

Expected<LabelSelector, SelectorError> LabelSelector::parse(std::string_view text) {
  auto reqs = Parser(lex(text)).run();
  if (!reqs) return unexpected(reqs.error());
  LabelSelector sel;
  sel.requirements_ = std::move(*reqs);
  return sel;
}

bool LabelSelector::matches(const KeyValues& labels) const {
  for (const auto& r : requirements_) {
    const std::string* v = find_label(labels, r.key);
    const bool in_set = v != nullptr && std::find(r.values.begin(), r.values.end(), *v) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case SelectorOp::exists: ok = v != nullptr; break;
      case SelectorOp::does_not_exist: ok = v == nullptr; break;
      case SelectorOp::equals:
      case SelectorOp::in: ok = in_set; break;
      case SelectorOp::not_equals:
      case SelectorOp::not_in: ok = !in_set; break;
    }
    if (!ok) return false;
  }
  return true;
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ',';
    switch (r.op) {
      case SelectorOp::exists: out += r.key; break;
      case SelectorOp::does_not_exist: out += '!' + r.key; break;
      case SelectorOp::equals: out += r.key + '=' + r.values.front(); break;
      case SelectorOp::not_equals: out += r.key + "!=" + r.values.front(); break;
      case SelectorOp::in:
      case SelectorOp::not_in: {
        out += r.key + (r.op == SelectorOp::in ? " in (" : " notin (");
        for (std::size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
        out += ')';
        break;
      }
    }
  }
  return out;
}

}  // namespace canary_guard::config
