#include <gtest/gtest.h>

#include "daemon/kube/errors.hpp"

namespace canary_guard::kube {
namespace {

struct Case {
  int status;
  const char* body;
  const char* retry_after;
  ErrorKind kind;
  const char* reason;
  int retry_s;
};

class ErrorMapping : public ::testing::TestWithParam<Case> {};

TEST_P(ErrorMapping, MapsStatusAndBody) {
  const auto& c = GetParam();
  Error e = error_from_response(c.status, c.body, c.retry_after);
  EXPECT_EQ(e.kind, c.kind) << to_string(e.kind);
  EXPECT_EQ(e.http_status, c.status);
  EXPECT_EQ(e.reason, c.reason);
  EXPECT_EQ(e.retry_after.count(), c.retry_s);
  EXPECT_FALSE(e.message.empty());
}

constexpr const char* kForbidden =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"deployments.apps is forbidden: User \"cg\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope","reason":"Forbidden","code":403})";

INSTANTIATE_TEST_SUITE_P(
    Table, ErrorMapping,
    ::testing::Values(
        Case{404, R"({"kind":"Status","reason":"NotFound","message":"deployments.apps \"x\" not found","code":404})", "",
             ErrorKind::not_found, "NotFound", 0},
        Case{409, R"({"kind":"Status","reason":"Conflict","message":"the object has been modified","code":409})", "",
             ErrorKind::conflict, "Conflict", 0},
        Case{409, R"({"kind":"Status","reason":"AlreadyExists","message":"already exists","code":409})", "",
             ErrorKind::conflict, "AlreadyExists", 0},
        Case{410, R"({"kind":"Status","reason":"Expired","message":"too old resource version","code":410})", "",
             ErrorKind::gone, "Expired", 0},
        Case{403, kForbidden, "", ErrorKind::forbidden, "Forbidden", 0},
        Case{401, R"({"kind":"Status","reason":"Unauthorized","code":401})", "", ErrorKind::unauthorized, "Unauthorized", 0},
        Case{422, R"({"kind":"Status","reason":"Invalid","code":422})", "", ErrorKind::invalid, "Invalid", 0},
        Case{400, R"({"kind":"Status","reason":"BadRequest","code":400})", "", ErrorKind::invalid, "BadRequest", 0},
        Case{415, "", "", ErrorKind::invalid, "", 0},
        Case{429, R"({"kind":"Status","reason":"TooManyRequests","code":429})", "7", ErrorKind::too_many_requests,
             "TooManyRequests", 7},
        Case{429, R"({"kind":"Status","reason":"TooManyRequests","details":{"retryAfterSeconds":3}})", "",
             ErrorKind::too_many_requests, "TooManyRequests", 3},
        Case{429, "", "Wed, 21 Oct 2015 07:28:00 GMT", ErrorKind::too_many_requests, "", 0},
        Case{429, "", "999999", ErrorKind::too_many_requests, "", 3600},
        Case{500, R"({"kind":"Status","reason":"InternalError","code":500})", "", ErrorKind::server_error,
             "InternalError", 0},
        Case{503, "<html>unavailable</html>", "2", ErrorKind::server_error, "", 2},
        Case{504, R"({"kind":"Status","reason":"Timeout","code":504})", "", ErrorKind::timeout, "Timeout", 0},
        Case{500, R"({"kind":"Status","reason":"Timeout","code":500})", "", ErrorKind::timeout, "Timeout", 0},
        Case{408, "", "", ErrorKind::timeout, "", 0},
        Case{302, "", "", ErrorKind::bad_data, "", 0},
        Case{404, "{truncated", "", ErrorKind::not_found, "", 0},
        Case{409, R"({"reason":7,"message":["x"]})", "", ErrorKind::conflict, "", 0}));

TEST(ErrorMapping, KeepsRbacMessage) {
  Error e = error_from_response(403, kForbidden);
  EXPECT_NE(e.message.find("cannot list resource \"deployments\""), std::string::npos);
  EXPECT_NE(describe(e).find("kind=forbidden status=403"), std::string::npos);
}

TEST(ErrorMapping, AlreadyExistsHelper) {
  EXPECT_TRUE(is_already_exists(error_from_response(409, R"({"reason":"AlreadyExists"})")));
  EXPECT_FALSE(is_already_exists(error_from_response(409, R"({"reason":"Conflict"})")));
}

TEST(ErrorMapping, NonJsonBodyIsTruncatedForLogs) {
  std::string big(10000, 'x');
  Error e = error_from_response(502, big);
  EXPECT_EQ(e.kind, ErrorKind::server_error);
  EXPECT_EQ(e.message.size(), 256u);
}

TEST(ErrorMapping, WatchErrorEventStatus) {
  Error e = error_from_status_json(
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410})j");
  EXPECT_EQ(e.kind, ErrorKind::gone);
  EXPECT_EQ(e.http_status, 410);
  EXPECT_EQ(e.message, "too old resource version: 5 (9)");
  EXPECT_EQ(error_from_status_json(R"({"reason":"Expired"})").kind, ErrorKind::gone);
  EXPECT_EQ(error_from_status_json("not json").kind, ErrorKind::bad_data);
  EXPECT_EQ(error_from_status_json(R"({"code":500,"reason":"InternalError"})").kind, ErrorKind::server_error);
}

TEST(ErrorMapping, EveryKindHasAName) {
  for (int k = 0; k <= static_cast<int>(ErrorKind::bad_data); ++k)
    EXPECT_NE(to_string(static_cast<ErrorKind>(k)), "unknown");
}

TEST(ErrorMapping, Retryable) {
  EXPECT_TRUE(is_retryable(make_error(ErrorKind::transport, "x")));
  EXPECT_TRUE(is_retryable(make_error(ErrorKind::timeout, "x")));
  EXPECT_TRUE(is_retryable(make_error(ErrorKind::too_many_requests, "x")));
  EXPECT_FALSE(is_retryable(make_error(ErrorKind::forbidden, "x")));
  EXPECT_FALSE(is_retryable(make_error(ErrorKind::conflict, "x")));
}

}  // namespace
}  // namespace canary_guard::kube
