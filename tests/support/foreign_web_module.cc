// A dashboard module of this errand's version and abi, but built from other
// headers (its fingerprint is not the build's): what a stale liberrand_web.so
// of an older build looks like. `errand web` must refuse it before calling
// anything in it (tests/cli_pkg_test.cc), so its calls are null.
#include "cli/web_module.h"

namespace {

constexpr errand::cli::WebModule kForeign{
    .abi = errand::cli::kWebModuleAbi,
    .size = sizeof(errand::cli::WebModule),
    .version = ERRAND_VERSION,
    .abi_hash = "0123456789abcdef",
    .serve = nullptr,
    .start_in_worker = nullptr,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const errand::cli::WebModule*
errand_web_module() {
  return &kForeign;
}
