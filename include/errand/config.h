// The YAML configuration file (`errand worker -C errand.yml`):
//
//   store: sqlite://errand.db        # where queues live unless routed below
//   concurrency: 10
//   timeout: 25                      # shutdown timeout, seconds
//   queues:                          # strict order, or [name, weight]
//     - [critical, 3]
//     - default
//   stores:                          # queue definitions: queue -> store URL
//     local: memory://local
//   tag: billing
//   labels: [blue]
//   log_format: text                 # or json
//   log_level: info                  # debug, info, warn (no per-job lines) or error
//   poll_interval: 5                 # seconds
//   heartbeat_interval: 5
//   process_ttl: 60
//   max_retries: 25
//   dead_max_jobs: 10000
//   dead_timeout: 15552000           # seconds
//
// Unknown keys are an error (a typo must not be silently ignored).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "errand/log.h"
#include "errand/queues.h"
#include "errand/server.h"
#include "errand/status.h"

namespace errand {

struct Config {
  std::string store = "sqlite://errand.db";
  std::map<std::string, std::string> queue_stores;  ///< queue -> store URL
  ServerOptions server;
  /// `log_level:`; nullopt: the process's level stays (errand::log::set_level).
  std::optional<log::Level> log_level;
};

/// Parses YAML text. invalid_argument with the line and the key on bad input.
Result<Config> parse_config(std::string_view yaml);
/// Reads and parses a file; io if it cannot be read.
Result<Config> load_config(const std::string& path);
/// Opens every store the config names (each URL once) and builds the map.
Result<QueueMap> open_queues(const Config& config);

}  // namespace errand
