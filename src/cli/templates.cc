#include "cli/templates.h"

namespace errand::cli::templates {

std::string render(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    const std::string key(text.substr(open + 2, close - open - 2));
    if (auto it = vars.find(key); it != vars.end())
      out += it->second;
    else
      out.append(text.substr(open, close + 2 - open));
    i = close + 2;
  }
  out.append(text.substr(i));
  return out;
}

const std::string_view kJobHeader = R"(// {{class}}: a background job.
//
//   client.perform_async<{{class}}>(42);                       // from C++
//   errand enqueue {{class}} '[42]'                           // from the shell
//   errand worker -r ./build/lib<project>_jobs.so             // runs it
#pragma once

#include <errand/errand.h>

#include <cstdint>

struct {{class}} {
  // queue, retry count, unique/limit options: see errand/job.h (JobOptions).
  static constexpr errand::JobOptions options{.queue = "default", .retry = 5};

  // Arguments travel as JSON: integers, doubles, bools, strings, vectors, maps.
  void perform(std::int64_t id);
};
)";

const std::string_view kJobSource = R"(#include "jobs/{{snake}}_job.h"

#include <iostream>

void {{class}}::perform(std::int64_t id) {
  // The work. Throw to fail: the job is retried with backoff, then dies.
  // Jobs run at least once: make this safe to run twice.
  std::cout << "{{class}} " << id << " (jid " << errand::current_job().jid << ")\n";
}

ERRAND_JOB({{class}});
)";

const std::string_view kJobTest = R"(#include "jobs/{{snake}}_job.h"

#include <errand/testing.h>
#include <gtest/gtest.h>

TEST({{class}}Test, IsEnqueuedWithItsArguments) {
  errand::testing::Fake fake;
  ASSERT_TRUE(fake.client().perform_async<{{class}}>(42).ok());
  EXPECT_ENQUEUED({{class}}, 42);
}

TEST({{class}}Test, Runs) {
  errand::testing::Fake fake;
  ASSERT_TRUE(fake.client().perform_async<{{class}}>(42).ok());
  auto result = fake.drain();  // runs it with a real errand server
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->processed, 1);
  EXPECT_EQ(result->failed, 0) << "see fake.retries() for the error";
}
)";

const std::string_view kProjectCMake = R"(cmake_minimum_required(VERSION 3.25)
project({{project}} LANGUAGES CXX)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

# errand installed (make install / the .deb), or -DCMAKE_PREFIX_PATH=<its prefix>.
find_package(errand {{version}} REQUIRED)

# The jobs: a shared library that `errand worker -r` loads. New files in
# jobs/ (errand new job NAME) are picked up.
file(GLOB JOB_SOURCES CONFIGURE_DEPENDS jobs/*.cc)
add_library({{project}}_jobs SHARED ${JOB_SOURCES})
target_include_directories({{project}}_jobs PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries({{project}}_jobs PUBLIC errand::errand)

# The application: it enqueues jobs.
add_executable({{project}} src/main.cc)
target_link_libraries({{project}} PRIVATE {{project}}_jobs)

# The tests (GoogleTest and errand/testing.h).
find_package(GTest)
if(GTest_FOUND)
  enable_testing()
  file(GLOB TEST_SOURCES CONFIGURE_DEPENDS tests/*.cc)
  add_executable({{project}}_tests ${TEST_SOURCES})
  target_link_libraries({{project}}_tests PRIVATE {{project}}_jobs GTest::gtest GTest::gtest_main)
  include(GoogleTest)
  gtest_discover_tests({{project}}_tests)
endif()
)";

const std::string_view kProjectMain =
    R"(// Enqueues one ExampleJob:  ./build/{{project}} [STORE_URL]
// Then run it:               errand worker -r ./build/lib{{project}}_jobs.so --store STORE_URL
#include <errand/errand.h>

#include <iostream>
#include <string>

#include "jobs/example_job.h"

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "sqlite://errand.db";
  auto client = errand::Client::open(url);
  if (!client) {
    std::cerr << "cannot open " << url << ": " << client.error().message() << "\n";
    return 1;
  }
  auto jid = client->perform_async<ExampleJob>(42);
  if (!jid) {
    std::cerr << "cannot enqueue: " << jid.error().message() << "\n";
    return 1;
  }
  std::cout << "enqueued ExampleJob " << *jid << "\n";
  return 0;
}
)";

const std::string_view kProjectReadme = R"(# {{project}}

Background jobs with errand (`find_package(errand)`).

    cmake -S . -B build && cmake --build build
    ctest --test-dir build                                  # the jobs' tests
    ./build/{{project}}                                      # enqueues an ExampleJob
    errand worker -r ./build/lib{{project}}_jobs.so         # runs it
    errand new job SendWelcomeEmail                         # another job, and its test
)";

const std::string_view kProjectGitignore = R"(/build/
*.db
*.db-wal
*.db-shm
)";

}  // namespace errand::cli::templates
