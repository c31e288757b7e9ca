// Job libraries that register one class name twice, for
// tests/registry_clash_test.cc: each appends its own word to
// $ERRAND_RECORD_FILE when ClashJob runs, so a test sees whose perform ran.
#pragma once

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

inline void clash_record(const std::string& word) {
  const char* path = std::getenv("ERRAND_RECORD_FILE");
  if (!path || !*path) throw std::runtime_error("ERRAND_RECORD_FILE is not set");
  std::ofstream(path, std::ios::app) << word << "\n";
}
