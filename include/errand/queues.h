// Queue definitions: which store each queue lives in (async-job's
// define_queue). A job's queue decides where it goes; nothing else changes.
//
//   errand::QueueMap queues(errand::open_store("sqlite://errand.db").value());
//   queues.define("local", errand::open_store("memory://local").value());
//
// Thread safety: define() and set_default() are for set-up, before the map is
// shared; the lookups are safe from many threads afterwards.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errand/store.h"

namespace errand {

class QueueMap {
 public:
  QueueMap() = default;
  /// `fallback` serves every queue that is not defined explicitly.
  explicit QueueMap(std::shared_ptr<Store> fallback) : fallback_(std::move(fallback)) {}

  void set_default(std::shared_ptr<Store> store) { fallback_ = std::move(store); }
  void define(std::string queue, std::shared_ptr<Store> store) {
    routes_[std::move(queue)] = std::move(store);
  }

  /// The store for `queue`, or nullptr if there is no default and no definition.
  Store* store_for(std::string_view queue) const {
    auto it = routes_.find(std::string(queue));
    return it != routes_.end() ? it->second.get() : fallback_.get();
  }
  std::shared_ptr<Store> shared_store_for(std::string_view queue) const {
    auto it = routes_.find(std::string(queue));
    return it != routes_.end() ? it->second : fallback_;
  }
  const std::shared_ptr<Store>& default_store() const { return fallback_; }
  const std::map<std::string, std::shared_ptr<Store>, std::less<>>& routes() const {
    return routes_;
  }
  /// Every distinct store, the default first.
  std::vector<std::shared_ptr<Store>> stores() const {
    std::vector<std::shared_ptr<Store>> out;
    auto add = [&](const std::shared_ptr<Store>& s) {
      if (!s) return;
      for (auto& o : out)
        if (o == s) return;
      out.push_back(s);
    };
    add(fallback_);
    for (auto& [name, s] : routes_) add(s);
    return out;
  }

 private:
  std::shared_ptr<Store> fallback_;
  std::map<std::string, std::shared_ptr<Store>, std::less<>> routes_;
};

}  // namespace errand
