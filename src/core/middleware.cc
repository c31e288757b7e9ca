#include "errand/middleware.h"

namespace errand {

namespace {
template <class Chain, class Call>
bool run_chain(const Chain& chain, std::size_t i, const std::function<void()>& last,
               const Call& call) {
  if (i == chain.size()) {
    last();
    return true;
  }
  bool reached = false;
  call(*chain[i], [&] { reached = run_chain(chain, i + 1, last, call); });
  return reached;
}
}  // namespace

bool run_client_chain(const ClientChain& chain, Json& job, std::string_view queue,
                      const std::function<void()>& last) {
  if (chain.empty()) {
    last();
    return true;
  }
  return run_chain(chain, 0, last, [&](ClientMiddleware& m, const std::function<void()>& next) {
    m.call(job, queue, next);
  });
}

bool run_server_chain(const ServerChain& chain, const JobContext& job,
                      const std::function<void()>& last) {
  if (chain.empty()) {
    last();
    return true;
  }
  return run_chain(chain, 0, last, [&](ServerMiddleware& m, const std::function<void()>& next) {
    m.call(job, next);
  });
}

}  // namespace errand
