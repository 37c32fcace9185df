#pragma once
// The guard's durable memory: verdicts and in-flight rollback records, kept as annotations on the ReplicaSet or
// ControllerRevision they describe, so they survive restarts and show in `kubectl describe`.
//
//   canary-guard.io/verdict:  "healthy hash=6d8f7c9b5 at=2026-11-21T10:00:00Z reason=baked"  (or failed, unfit)
//   canary-guard.io/rollback: "state=waiting from=6d8f7c9b5 to=7c9f8d6b4 to-revision=3 at=2026-11-21T10:03:00Z reason=crash_loop"
//
// Each record names the hash of the object it belongs to. Kubernetes copies annotations around (an undo copies a
// ReplicaSet's annotations onto the Deployment, the controller copies Deployment annotations onto new ReplicaSets),
// so a record whose hash is not the object's own is a stray copy and is ignored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/clock.hpp"

namespace canary_guard::guard {

inline constexpr std::string_view kVerdictAnnotation = "canary-guard.io/verdict";
inline constexpr std::string_view kRollbackAnnotation = "canary-guard.io/rollback";
inline constexpr std::string_view kAnnotationPrefix = "canary-guard.io/";
// On a Deployment the guard paused while blind ([analysis] pause_when_blind): "paused-blind hash=<h> at=<t>".
inline constexpr std::string_view kHoldAnnotation = "canary-guard.io/hold";

// unfit: the revision was verified healthy once, but a rollback to it did not complete; it is no rollback target
// until it is deployed and verified again.
enum class Verdict { none, healthy, failed, unfit };

struct VerdictRecord {
  Verdict verdict = Verdict::none;
  std::string hash;
  TimePoint at{};
  std::string reason;
};

enum class RollbackState {
  started,     // intent recorded, PATCH not yet known to have been accepted
  waiting,     // PATCH accepted; waiting for the target revision to roll out
  succeeded,   // target rolled out
  failed,      // target did not roll out: hold until a new revision appears
  superseded,  // someone else deployed a new revision meanwhile
};

struct RollbackRecord {
  RollbackState state = RollbackState::started;
  std::string from;  // hash of the failed revision (the object carrying the record)
  std::string to;    // hash of the target revision
  std::int64_t to_revision = 0;
  TimePoint at{};    // when the rollback was decided (before the PATCH)
  std::string reason;
};

std::string_view to_string(Verdict v);
std::string_view to_string(RollbackState s);

std::string format_verdict(const VerdictRecord& r);
// nullopt when the text is not a record of ours or belongs to another hash.
std::optional<VerdictRecord> parse_verdict(std::string_view text, std::string_view own_hash);

std::string format_rollback(const RollbackRecord& r);
std::optional<RollbackRecord> parse_rollback(std::string_view text, std::string_view own_hash);


}  // namespace canary_guard::guard
