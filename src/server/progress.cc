#include "server/progress.h"

#include "core/log.h"
#include "server/event_dispatcher.h"
#include "server/runtime.h"

namespace errand {

void ProgressThrottle::report(double fraction, std::string_view message) {
  MutexLock lk(mu_);
  const auto now = steady::now();
  if (last_ && now - *last_ < interval_) {
    held_ = Report{fraction, std::string(message)};  // the latest wins
    return;
  }
  last_ = now;
  held_.reset();
  ++sent_;
  sink_(fraction, std::string(message));
}

void ProgressThrottle::flush() {
  MutexLock lk(mu_);
  if (!held_) return;
  Report r = std::move(*held_);
  held_.reset();
  last_ = steady::now();
  ++sent_;
  sink_(r.fraction, r.message);
}

void ProgressThrottle::flush_due() {
  MutexLock lk(mu_);
  const auto now = steady::now();
  if (!held_ || (last_ && now - *last_ < interval_)) return;
  Report r = std::move(*held_);
  held_.reset();
  last_ = now;
  ++sent_;
  sink_(r.fraction, r.message);
}

std::size_t ProgressThrottle::sent() const {
  MutexLock lk(mu_);
  return sent_;
}

std::shared_ptr<ProgressThrottle> job_progress(Runtime& rt, Source& src, const JobView& v,
                                               const JobDescriptor* desc) {
  const bool store = src.status && rt.options.record_status;
  const double ttl = desc ? desc->result_ttl : JobOptions{}.result_ttl;
  auto sink = [&rt, &src, jid = v.jid, cls = v.display_class, queue = v.queue, store, ttl,
               warned = false](double fraction, const std::string& message) mutable {
    if (store) {
      ProgressUpdate u{jid, fraction, message, rt.now(), ttl};
      if (auto st = src.store->record_progress(std::span<const ProgressUpdate>(&u, 1));
          !st && !warned) {
        warned = true;
        log::warn("cannot record job progress", {{"jid", jid}, {"error", st.message()}});
      }
    }
    if (!rt.events) return;
    JobEvent e;
    e.kind = JobEventKind::progress;
    e.jid = jid;
    e.job_class = cls;
    e.queue = queue;
    e.progress = fraction;
    e.message = message;
    e.process = rt.identity;
    e.at = rt.now();
    rt.events->emit(src.store.get(), std::move(e));
  };
  return std::make_shared<ProgressThrottle>(rt.options.progress_interval, std::move(sink));
}

std::chrono::milliseconds ProgressFlusher::next_interval() { return rt_.options.progress_interval; }

bool ProgressFlusher::idle() { return rt_.busy.load() == 0; }

void ProgressFlusher::run_once() {
  for (const auto& slot : rt_.slot_list()) {
    std::shared_ptr<ProgressThrottle> p;
    {
      MutexLock lk(slot->mu);
      p = slot->progress;
    }
    if (p) p->flush_due();
  }
}

}  // namespace errand
