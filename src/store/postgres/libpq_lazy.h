// libpq loaded on first use (libpq_lazy.cc, ERRAND_LAZY_LIBPQ): why it
// could not be.
#pragma once

namespace errand::postgres_lazy {

/// Loads libpq if not yet tried; null if it is loaded, else dlopen's reason
/// (the same text on every call).
const char* load_error();

}  // namespace errand::postgres_lazy
