// errand: background jobs for C++. Include this one header.
#pragma once

#include "errand/admin.h"       // IWYU pragma: export
#include "errand/aggregate.h"   // IWYU pragma: export
#include "errand/batch.h"       // IWYU pragma: export
#include "errand/client.h"      // IWYU pragma: export
#include "errand/clock.h"       // IWYU pragma: export
#include "errand/config.h"      // IWYU pragma: export
#include "errand/job.h"         // IWYU pragma: export
#include "errand/middleware.h"  // IWYU pragma: export
#include "errand/payload.h"     // IWYU pragma: export
#include "errand/queues.h"      // IWYU pragma: export
#include "errand/server.h"      // IWYU pragma: export
#include "errand/status.h"      // IWYU pragma: export
#include "errand/store.h"       // IWYU pragma: export

#define ERRAND_VERSION "0.1.0"
