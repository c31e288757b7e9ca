// In-process store: no persistence, for tests and for queues that trade
// robustness for speed.
#pragma once
#include <memory>
#include <string>

#include "errand/store.h"

namespace errand {
/// The memory store named `name`: every call with the same name in one process
/// returns the same store (so a client and a server in one process share it).
/// An empty name returns a new private store.
std::shared_ptr<Store> memory_store(const std::string& name);
}  // namespace errand
