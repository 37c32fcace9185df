#include "daemon/guard/fresh_view.hpp"

#include "daemon/guard/act.hpp"  // both()
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"

namespace canary_guard::guard {
namespace {

using boost::asio::awaitable;

// Every item of a consistent, paged list, projected. Any item that does not project is an error: a view with a
// hole in it is no evidence.
template <class View>
awaitable<kube::Result<std::vector<View>>> list_all(kube::Client& client, std::string path, const kube::ListOptions& lo) {
  std::vector<View> out;
  kube::Decoder decoder;
  kube::RawPageHandler on_page = [&](std::string_view body, bool restarted) -> Expected<std::string, kube::Error> {
    if (restarted) out.clear();
    auto page = decoder.decode_list<View>(body);
    if (!page) return unexpected(kube::make_error(kube::ErrorKind::bad_data, page.error()));
    if (!page->errors.empty())
      return unexpected(kube::make_error(kube::ErrorKind::bad_data, "fresh read: " + page->errors.front()));
    for (auto& v : page->items) out.push_back(std::move(v));
    return std::move(page->continue_token);
  };
  kube::ListOptions opts = lo;
  auto r = co_await client.list_pages_raw(path, opts, 500, on_page);
  if (!r) co_return unexpected(r.error());
  co_return out;
}

// One object by name (a GET: one key read, where a LIST with a selector reads the namespace's every object of the
// kind and filters), projected; an absent object is no item, as in a list. A GET reads as consistently as a LIST.
// The document itself goes to `doc` (kept by the caller across the await).
template <class View>
awaitable<kube::Result<std::vector<View>>> get_one(kube::Client& client, std::string path,
                                                   std::optional<nlohmann::json>& doc) {
  std::vector<View> out;
  auto r = co_await client.get(path);
  if (!r) {
    if (r.error().kind == kube::ErrorKind::not_found) co_return out;
    co_return unexpected(r.error());
  }
  kube::Decoder decoder;
  auto v = decoder.project<View>(r->dump());
  if (!v) co_return unexpected(kube::make_error(kube::ErrorKind::bad_data, "fresh read: " + v.error()));
  out.push_back(std::move(*v));
  doc = std::move(*r);
  co_return out;
}

// Two objects by name, read at once; the first error wins.
template <class View>
awaitable<kube::Result<std::vector<View>>> get_two(kube::Client& client, std::string a, std::string b,
                                                   std::optional<nlohmann::json>& doc_a,
                                                   std::optional<nlohmann::json>& doc_b) {
  auto [x, y] = co_await both(get_one<View>(client, std::move(a), doc_a), get_one<View>(client, std::move(b), doc_b));
  if (!x) co_return unexpected(x.error());
  if (!y) co_return unexpected(y.error());
  for (auto& v : *y) x->push_back(std::move(v));
  co_return std::move(*x);
}

template <class T>
std::vector<const T*> owned_by(const std::vector<T>& all, const std::string& uid) {
  std::vector<const T*> out;
  if (uid.empty()) return out;
  for (const auto& v : all)
    if (v.meta.controller_uid == uid) out.push_back(&v);
  return out;
}

// The three lists of one workload kind ((workload, revisions), pods) into the view, or the first error.
template <class W, class R>
std::optional<kube::Error> take(std::pair<std::pair<kube::Result<std::vector<W>>, kube::Result<std::vector<R>>>,
                                          kube::Result<std::vector<probes::PodView>>>& lists,
                                std::optional<W>& workload, std::vector<R>& revisions,
                                std::vector<probes::PodView>& pods) {
  auto& [w, revs] = lists.first;
  for (const kube::Error* e : {w ? nullptr : &w.error(), revs ? nullptr : &revs.error(),
                               lists.second ? nullptr : &lists.second.error()})
    if (e) return *e;
  if (!w->empty()) workload = std::move(w->front());
  revisions = std::move(*revs);
  pods = std::move(*lists.second);
  return std::nullopt;
}

}  // namespace

awaitable<kube::Result<std::unique_ptr<FreshView>>> FreshView::read(kube::Client& client, const WorkloadKey& key,
                                                                    const std::vector<std::string>& hashes,
                                                                    const std::vector<std::string>& revision_names) {
  auto view = std::make_unique<FreshView>();
  // Named arguments, never `{}`: GCC 12 destroys a braced temporary passed by value to a coroutine twice
  // (PR c++/99576); a relisting daemon crashed on it with "free(): invalid pointer".
  kube::ListOptions one;
  one.field_selector = "metadata.name=" + key.name;
  const kube::ListOptions all;
  kube::ListOptions revs_of_decision, pods_of_failing;
  if (!hashes.empty()) {
    std::string in;
    for (const auto& h : hashes) in += (in.empty() ? "" : ",") + h;
    revs_of_decision.label_selector = "pod-template-hash in (" + in + ")";
    pods_of_failing.label_selector = "pod-template-hash=" + hashes.front();
  }
  // The three lists go out at once: the fresh read sits between a breach and its rollback PATCH.
  std::optional<kube::Error> failed;
  if (key.kind == Kind::deployment && revision_names.size() == 2) {
    // The Deployment and the decision's two ReplicaSets by name (GETs), the failing revision's pods by label.
    std::optional<nlohmann::json> rs_a, rs_b;
    auto lists = co_await both(
        both(get_one<probes::DeploymentView>(client, kube::paths::deployments(key.ns, key.name), view->workload_doc_),
             get_two<probes::ReplicaSetView>(client, kube::paths::replicasets(key.ns, revision_names[0]),
                                             kube::paths::replicasets(key.ns, revision_names[1]), rs_a, rs_b)),
        list_all<probes::PodView>(client, kube::paths::pods(key.ns), pods_of_failing));
    failed = take(lists, view->deployment_, view->replicasets_, view->pods_);
    for (auto* doc : {&rs_a, &rs_b})
      if (*doc) view->revision_docs_.push_back(std::move(**doc));
  } else if (key.kind == Kind::deployment) {
    auto lists = co_await both(
        both(list_all<probes::DeploymentView>(client, kube::paths::deployments(key.ns), one),
             list_all<probes::ReplicaSetView>(client, kube::paths::replicasets(key.ns), revs_of_decision)),
        list_all<probes::PodView>(client, kube::paths::pods(key.ns), pods_of_failing));
    failed = take(lists, view->deployment_, view->replicasets_, view->pods_);
  } else {
    auto lists = co_await both(
        both(list_all<probes::DaemonSetView>(client, kube::paths::daemonsets(key.ns), one),
             list_all<probes::ControllerRevisionView>(client, kube::paths::controllerrevisions(key.ns), all)),
        list_all<probes::PodView>(client, kube::paths::pods(key.ns), all));
    failed = take(lists, view->daemonset_, view->revisions_, view->pods_);
  }
  if (failed) co_return unexpected(std::move(*failed));
  co_return view;
}

const nlohmann::json* FreshView::revision_document(const std::string& name) const {
  // Documents that projected (get_one), so metadata.name is there.
  for (const auto& d : revision_docs_)
    if (d.value("/metadata/name"_json_pointer, std::string()) == name) return &d;
  return nullptr;
}

const probes::DeploymentView* FreshView::deployment(const std::string& ns, const std::string& name) const {
  return deployment_ && deployment_->meta.ns == ns && deployment_->meta.name == name ? &*deployment_ : nullptr;
}
const probes::DaemonSetView* FreshView::daemonset(const std::string& ns, const std::string& name) const {
  return daemonset_ && daemonset_->meta.ns == ns && daemonset_->meta.name == name ? &*daemonset_ : nullptr;
}
std::vector<const probes::ReplicaSetView*> FreshView::replicasets_of(const std::string& uid) const {
  return owned_by(replicasets_, uid);
}
std::vector<const probes::ControllerRevisionView*> FreshView::revisions_of(const std::string& uid) const {
  return owned_by(revisions_, uid);
}
std::vector<const probes::PodView*> FreshView::pods_of(const std::string& uid) const { return owned_by(pods_, uid); }

}  // namespace canary_guard::guard
