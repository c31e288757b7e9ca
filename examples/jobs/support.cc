// Shared plumbing for the example jobs: the output directory and the
// completion counters the demo uses to know when everything has finished.
#include <atomic>
#include <cstdlib>
#include <mutex>

#include "jobs/examples.h"

namespace errand::examples {

namespace {

std::atomic<std::int64_t> g_completed{0};
std::mutex g_mu;
// Guarded by g_mu. Leaked on purpose: worker threads left behind by a stuck
// job may still record completions during static destruction.
std::map<std::string, std::int64_t, std::less<>>& by_class() {
  static auto* m = new std::map<std::string, std::int64_t, std::less<>>();
  return *m;
}

}  // namespace

std::filesystem::path output_dir(std::string_view sub) {
  const char* env = std::getenv("ERRAND_DEMO_OUT");
  std::filesystem::path base =
      (env && *env) ? std::filesystem::path(env) : std::filesystem::current_path();
  auto dir = base / sub;
  std::filesystem::create_directories(dir);
  return dir;
}

void record_completion(std::string_view job_class) {
  {
    std::lock_guard lk(g_mu);
    auto& m = by_class();
    auto it = m.find(job_class);
    if (it == m.end()) it = m.emplace(std::string(job_class), 0).first;
    ++it->second;
  }
  // Incremented last, so a reader who sees the total also sees the class count.
  g_completed.fetch_add(1);
}

std::int64_t completed() { return g_completed.load(); }

std::map<std::string, std::int64_t> completed_by_class() {
  std::lock_guard lk(g_mu);
  return {by_class().begin(), by_class().end()};
}

}  // namespace errand::examples
