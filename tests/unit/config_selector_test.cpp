// Label selectors: parsing (canonical form and error offsets) and Kubernetes matching semantics.
#include <gtest/gtest.h>

#include "config/selector.hpp"

namespace canary_guard::config {
namespace {

TEST(ConfigSelector, ParsesToCanonicalForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"   ", ""},
      {"app=web", "app=web"},
      {"app==web", "app=web"},
      {" app = web ", "app=web"},
      {"app!=web", "app!=web"},
      {"app", "app"},
      {"!app", "!app"},
      {"! app", "!app"},
      {"app=", "app="},
      {"app=,tier", "app=,tier"},
      {"env in (prod,staging)", "env in (prod,staging)"},
      {"env in(prod, staging ,prod)", "env in (prod,staging)"},  // duplicates collapse
      {"env notin (dev)", "env notin (dev)"},
      {"a=b,c!=d,e,!f,g in (h),i notin (j)", "a=b,c!=d,e,!f,g in (h),i notin (j)"},
      {"example.com/team=payments", "example.com/team=payments"},
      {"app.kubernetes.io/name=shop", "app.kubernetes.io/name=shop"},
      {"a=in", "a=in"},          // keywords are ordinary words in value position
      {"in=x", "in=x"},
      {"a in (in,notin)", "a in (in,notin)"},
      {"A_b.c-D=X_y.z-1", "A_b.c-D=X_y.z-1"},
  };
  for (const auto& [text, canonical] : cases) {
    auto sel = LabelSelector::parse(text);
    ASSERT_TRUE(sel.has_value()) << '"' << text << "\": " << sel.error().message;
    EXPECT_EQ(sel->to_string(), canonical) << text;
    auto again = LabelSelector::parse(sel->to_string());
    ASSERT_TRUE(again.has_value()) << canonical;
    EXPECT_EQ(again->requirements(), sel->requirements()) << canonical;
  }
}

TEST(ConfigSelector, ParsedStructure) {
  auto sel = LabelSelector::parse("app=web,env notin (dev,test),!legacy");
  ASSERT_TRUE(sel.has_value());
  ASSERT_EQ(sel->requirements().size(), 3u);
  EXPECT_EQ(sel->requirements()[0], (Requirement{"app", SelectorOp::equals, {"web"}}));
  EXPECT_EQ(sel->requirements()[1], (Requirement{"env", SelectorOp::not_in, {"dev", "test"}}));
  EXPECT_EQ(sel->requirements()[2], (Requirement{"legacy", SelectorOp::does_not_exist, {}}));
}

struct BadSelector {
  const char* text;
  std::size_t offset;
  const char* fragment;
};

TEST(ConfigSelector, RejectsWithOffsetAndReason) {
  const BadSelector cases[] = {
      {",", 0, "expected a label key"},
      {"app=web,", 8, "expected a requirement after \",\""},
      {"app=web,,x", 8, "expected a label key"},
      {"app web", 4, "expected an operator"},
      {"app=web tier=x", 8, "expected \",\" or end of selector"},
      {"app=(x)", 4, "expected a label value"},
      {"app in x", 7, "expected \"(\" after in"},
      {"app notin x", 10, "expected \"(\" after notin"},
      {"app in ()", 8, "empty value list"},
      {"app in (a b)", 10, "expected \",\" or \")\""},
      {"app in (a,", 10, "expected a label value"},
      {"app in (a", 9, "expected \",\" or \")\""},
      {"app in (a,)", 10, "expected a label value"},
      {"!", 1, "expected a label key"},
      {"!app=x", 4, "expected \",\" or end of selector"},
      {"-app=x", 0, "invalid label key \"-app\""},
      {"app-=x", 0, "invalid label key"},
      {"a/b/c=x", 0, "invalid label key"},
      {"Example.com/a=x", 0, "invalid label key"},  // DNS prefix must be lowercase
      {"/a=x", 0, "invalid label key"},
      {"a/=x", 0, "invalid label key"},
      {"app=-web", 4, "invalid label value \"-web\""},
      {"app=web-", 4, "invalid label value"},
      {"app=a*b", 4, "invalid label value"},
      {"app in (ok,-bad)", 11, "invalid label value \"-bad\""},
      {"app >5", 4, "operators > and < are not supported"},
      {"app = = x", 6, "expected a label value"},
      {"(app)", 0, "expected a label key"},
  };
  for (const auto& c : cases) {
    auto sel = LabelSelector::parse(c.text);
    ASSERT_FALSE(sel.has_value()) << "accepted \"" << c.text << "\" as " << sel->to_string();
    EXPECT_EQ(sel.error().offset, c.offset) << c.text << ": " << sel.error().message;
    EXPECT_NE(sel.error().message.find(c.fragment), std::string::npos) << c.text << ": " << sel.error().message;
  }
}

TEST(ConfigSelector, KeyAndValueLengthLimits) {
  const std::string name63(63, 'a'), name64(64, 'a');
  EXPECT_TRUE(is_qualified_label_key(name63));
  EXPECT_FALSE(is_qualified_label_key(name64));
  EXPECT_TRUE(is_label_value(name63));
  EXPECT_FALSE(is_label_value(name64));
  EXPECT_TRUE(is_label_value(""));
  EXPECT_FALSE(is_qualified_label_key(""));
  const std::string prefix253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                std::string(61, 'd');
  ASSERT_EQ(prefix253.size(), 253u);
  EXPECT_TRUE(is_qualified_label_key(prefix253 + "/x"));
  EXPECT_FALSE(is_qualified_label_key(prefix253 + "d/x"));
  EXPECT_TRUE(is_dns1123_label("shop-1"));
  EXPECT_FALSE(is_dns1123_label("Shop"));
  EXPECT_FALSE(is_dns1123_label("-shop"));
  EXPECT_FALSE(is_dns1123_label("shop_1"));
  EXPECT_FALSE(is_dns1123_label(name64));
  EXPECT_FALSE(LabelSelector::parse("a=" + name64).has_value());
  EXPECT_TRUE(LabelSelector::parse("a=" + name63).has_value());
}

struct MatchCase {
  const char* selector;
  KeyValues labels;
  bool matches;
};

TEST(ConfigSelector, MatchesLikeKubernetes) {
  const KeyValues web{{"app", "web"}, {"env", "prod"}};
  const KeyValues none{};
  const KeyValues empty_app{{"app", ""}};
  const MatchCase cases[] = {
      {"", none, true},
      {"", web, true},
      {"app=web", web, true},
      {"app=db", web, false},
      {"app=web", none, false},
      {"app==web", web, true},
      {"app!=web", web, false},
      {"app!=db", web, true},
      {"app!=db", none, true},  // != matches when the label is absent
      {"app", web, true},
      {"app", none, false},
      {"app", empty_app, true},
      {"!app", web, false},
      {"!app", none, true},
      {"app=", empty_app, true},
      {"app=", web, false},
      {"app=", none, false},
      {"env in (prod,staging)", web, true},
      {"env in (dev,staging)", web, false},
      {"env in (prod)", none, false},
      {"env notin (dev)", web, true},
      {"env notin (prod)", web, false},
      {"env notin (prod)", none, true},  // notin matches when the label is absent
      {"app=web,env=prod", web, true},
      {"app=web,env=dev", web, false},
      {"app=web,!env", web, false},
      {"APP=web", web, false},  // keys are case-sensitive
      {"app=Web", web, false},  // and so are values
  };
  for (const auto& c : cases) {
    auto sel = LabelSelector::parse(c.selector);
    ASSERT_TRUE(sel.has_value()) << c.selector;
    EXPECT_EQ(sel->matches(c.labels), c.matches) << '"' << c.selector << "\" with " << c.labels.size() << " labels";
  }
}

}  // namespace
}  // namespace canary_guard::config
