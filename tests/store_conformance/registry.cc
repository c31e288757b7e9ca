// The registry of stores under test and the suite's one instantiation.
#include <utility>

#include "store_conformance/conformance.h"

namespace errand::testing {

// Each case file defines one of these. Naming them all here makes a linker
// that pulls this object from the static library (it defines
// register_store) pull every case file with it: their TEST_Ps are only
// reached through static initialisers, which a linker would otherwise drop.
namespace anchors {
extern const int enqueue_fetch, locks, processes, sets, pause, reschedule, capabilities, status;
extern const int progress_events, clock;
}  // namespace anchors
extern const int* const kConformanceCases[];
const int* const kConformanceCases[] = {
    &anchors::enqueue_fetch,   &anchors::locks,      &anchors::processes,    &anchors::sets,
    &anchors::pause,           &anchors::reschedule, &anchors::capabilities, &anchors::status,
    &anchors::progress_events, &anchors::clock};

namespace {
std::vector<StoreFactory>& factories() {
  static std::vector<StoreFactory> list;
  return list;
}
}  // namespace

bool register_store(const char* name, StoreFactory factory) {
  factory.name = name;
  if (factory.scheme.empty()) factory.scheme = name;
  factories().push_back(std::move(factory));
  return kConformanceCases[0] != nullptr;
}

bool register_store(StoreFactory factory) {
  const std::string name = factory.name;
  return register_store(name.c_str(), std::move(factory));
}

bool register_store(const char* name, std::function<std::shared_ptr<Store>()> make) {
  StoreFactory factory;
  factory.make = std::move(make);
  return register_store(name, std::move(factory));
}

const std::vector<StoreFactory>& registered_stores() { return factories(); }

// gtest reads the list when it registers the tests (in main, after every
// static initialiser ran), so every store registered at namespace scope is in.
INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, ::testing::ValuesIn(registered_stores()),
                         [](const ::testing::TestParamInfo<StoreFactory>& param_info) {
                           return param_info.param.name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformance);

}  // namespace errand::testing
