#include "daemon/app/webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "daemon/app/metrics.hpp"
#include "probes/alerts.hpp"

namespace canary_guard::app {

Expected<std::string, std::string> SecretFile::get() {
  struct stat sb {};
  if (::stat(path_.c_str(), &sb) != 0) return unexpected("cannot read " + path_ + ": " + std::strerror(errno));
  const auto stamp = std::make_tuple(static_cast<unsigned long>(sb.st_ino), static_cast<long>(sb.st_size),
                                     static_cast<long>(sb.st_mtim.tv_sec), static_cast<long>(sb.st_mtim.tv_nsec));
  if (stamp_ && *stamp_ == stamp && !value_.empty()) return value_;
  if (sb.st_size > 64 * 1024) return unexpected(path_ + " is larger than 64 KiB: not a token");
  std::ifstream in(path_, std::ios::binary);
  if (!in) return unexpected("cannot read " + path_ + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string v = text.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ' || v.back() == '\t')) v.pop_back();
  if (v.empty()) return unexpected(path_ + " is empty");
  value_ = std::move(v);
  stamp_ = stamp;
  return value_;
}

bool secrets_equal(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

AlertWebhook::AlertWebhook(std::string token_file, guard::AlertStore& store, const Clock& clock, Metrics* metrics,
                           Changed changed)
    : token_(std::move(token_file)), store_(store), clock_(clock), metrics_(metrics), changed_(std::move(changed)) {}

HttpResponse AlertWebhook::handle(const HttpRequest& req) {
  auto token = token_.get();
  if (!token) {
    if (!token_error_logged_) spdlog::error("component=webhook event=token_unreadable error=\"{}\"", token.error());
    token_error_logged_ = true;
    return HttpResponse{503, "text/plain", "webhook token unavailable\n"};
  }
  token_error_logged_ = false;
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view auth(req.authorization);
  if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer ||
      !secrets_equal(auth.substr(kBearer.size()), *token)) {
    if (metrics_) metrics_->notification_received("firing", "unauthorized");
    spdlog::warn("component=webhook event=unauthorized reason={}", auth.empty() ? "no_token" : "wrong_token");
    return HttpResponse{401, "text/plain", "unauthorized\n"};
  }
  probes::WebhookLimits limits;
  limits.max_body_bytes = HttpServer::kMaxBodyBytes;
  auto msg = probes::parse_alertmanager_webhook(req.body, limits);
  if (!msg) {
    std::string why;
    for (std::size_t i = 0; i < msg.error().size() && i < 3; ++i) why += (i ? "; " : "") + msg.error()[i];
    if (metrics_) metrics_->notification_received("firing", "malformed");
    spdlog::warn("component=webhook event=malformed bytes={} errors={} detail=\"{}\"", req.body.size(),
                 msg.error().size(), why);
    return HttpResponse{400, "text/plain", "malformed Alertmanager notification: " + why + "\n"};
  }
  const auto applied = store_.apply(*msg, clock_.now());
  if (metrics_) {
    // Per alert, by its own status.
    for (int i = 0; i < applied.accepted; ++i) metrics_->notification_received(msg->status, "accepted");
    for (int i = 0; i < applied.duplicates; ++i) metrics_->notification_received(msg->status, "duplicate");
    for (int i = 0; i < applied.ignored; ++i) metrics_->notification_received(msg->status, "ignored");
    if (applied.heartbeat) metrics_->heartbeat(std::chrono::duration<double>(clock_.now().time_since_epoch()).count());
    metrics_->alerts_firing(store_.firing_by_workload());
  }
  for (const auto& why : applied.ignored_why) spdlog::info("component=webhook event=alert_ignored {}", why);
  spdlog::info("component=webhook event=received status={} alerts={} accepted={} duplicates={} ignored={} "
               "truncated={}",
               msg->status, msg->alerts.size(), applied.accepted, applied.duplicates, applied.ignored,
               msg->truncated_alerts);
  if (changed_ && !applied.workloads.empty()) changed_(applied.workloads);
  return HttpResponse{200, "text/plain", "ok\n"};
}

}  // namespace canary_guard::app
