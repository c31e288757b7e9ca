#include "store_conformance/conformance.h"

namespace errand::testing {

std::vector<StoreFactory>& store_factories() {
  static std::vector<StoreFactory> factories;
  return factories;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, ::testing::ValuesIn(store_factories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& param_info) {
                           return param_info.param.name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformance);

}  // namespace errand::testing
