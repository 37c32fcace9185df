#pragma once
// NamespacedInformer<View>: the cache of one resource over the selected namespaces, as controller-runtime's
// multi-namespace cache builds it: one Informer (one list+watch) per namespace when `[selection] namespaces` names
// them, one cluster-wide Informer otherwise. A guard of one namespace then never lists every pod of the cluster, and
// the role it needs fits in its namespaces (config/manifests/rbac-namespaced.yaml). Liveness rolls up: the resource is
// live when every part is; why_not_live() names the namespace that is not. Handlers, find() and request_relist()
// reach every part (or the part of one namespace). Owned by the controller; one thread.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/kube/informer.hpp"

namespace canary_guard::kube {

template <class View>
class NamespacedInformer {
 public:
  using value_type = View;
  using Handler = typename Informer<View>::Handler;
  using PathOf = std::string (*)(std::string_view ns, std::string_view name);

  // namespaces empty: one cluster-wide informer on path_of("", ""); else one informer on path_of(ns, "") each.
  // `base` gives the other options (its path is ignored).
  NamespacedInformer(Client& client, PathOf path_of, const std::vector<std::string>& namespaces,
                     InformerOptions base = {}) {
    if (namespaces.empty()) {
      add(client, path_of, "", base);
    } else {
      for (const auto& ns : namespaces)
        if (!part_of(ns)) add(client, path_of, ns, base);  // a namespace listed twice is watched once
    }
  }

  void on_add(const Handler& h) {
    for (auto& p : parts_) p.informer->on_add(h);
  }
  void on_update(const Handler& h) {
    for (auto& p : parts_) p.informer->on_update(h);
  }
  void on_delete(const Handler& h) {
    for (auto& p : parts_) p.informer->on_delete(h);
  }

  bool has_synced() const {
    for (const auto& p : parts_)
      if (!p.informer->has_synced()) return false;
    return true;
  }
  bool live() const { return why_not_live().empty(); }
  // Empty when every part is live; otherwise the first that is not, with its namespace when there are several.
  std::string why_not_live() const {
    for (const auto& p : parts_) {
      std::string why = p.informer->why_not_live();
      if (why.empty()) continue;
      return p.ns.empty() ? why : "namespace " + p.ns + ": " + why;
    }
    return {};
  }
  void request_relist() {
    for (auto& p : parts_) p.informer->request_relist();
  }
  // Only the part that holds namespace `ns` (the cluster-wide one when there is no per-namespace part).
  void request_relist(std::string_view ns) {
    if (auto* i = part_of(ns)) i->request_relist();
  }
  // key: "namespace/name".
  const View* find(const std::string& key) const {
    const auto* i = part_of(std::string_view(key).substr(0, key.find('/')));
    return i ? i->find(key) : nullptr;
  }
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& p : parts_) n += p.informer->cache().size();
    return n;
  }
  // f(key, view) for every cached object of every part.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& p : parts_)
      for (const auto& [k, v] : p.informer->cache()) f(k, v);
  }
  // The informers to run (each its own coroutine) and stop.
  std::vector<Informer<View>*> parts() {
    std::vector<Informer<View>*> out;
    for (auto& p : parts_) out.push_back(p.informer.get());
    return out;
  }
  void stop() {
    for (auto& p : parts_) p.informer->stop();
  }

 private:
  struct Part {
    std::string ns;  // "" = cluster-wide
    std::unique_ptr<Informer<View>> informer;
  };
  void add(Client& client, PathOf path_of, const std::string& ns, InformerOptions opts) {
    opts.path = path_of(ns, {});
    parts_.push_back(Part{ns, std::make_unique<Informer<View>>(client, std::move(opts))});
  }
  Informer<View>* part_of(std::string_view ns) const {
    for (const auto& p : parts_)
      if (p.ns.empty() || p.ns == ns) return p.informer.get();
    return nullptr;
  }

  std::vector<Part> parts_;
};

}  // namespace canary_guard::kube
