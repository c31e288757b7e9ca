// The job logger's cost per line on the calling thread: the "start"/"done"
// lines every job writes at the default level (text and JSON). Run with
// stderr sent to a file, as a worker's log is:
//   build/errand_micro --benchmark_filter=Log 2>/tmp/micro.log
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "core/log.h"

namespace {

void log_lines(benchmark::State& s, errand::LogFormat format) {
  errand::log::set_format(format);
  const std::string cls = "BenchNoop", jid = "3469c202ba92a19fc5680796", queue = "default";
  for (auto _ : s) {
    const std::array<errand::log::Field, 3> fields{
        {{"class", cls}, {"jid", jid}, {"queue", queue}}};
    errand::log::write(errand::log::Level::info, "done", fields, 0.000012);
  }
  errand::log::set_format(errand::LogFormat::text);
}

void BM_LogLineText(benchmark::State& s) { log_lines(s, errand::LogFormat::text); }
BENCHMARK(BM_LogLineText)->Threads(1)->Threads(4);
// Process CPU (the writer thread's write(2) calls included), per line.
BENCHMARK(BM_LogLineText)->Threads(4)->MeasureProcessCPUTime()->UseRealTime();

void BM_LogLineJson(benchmark::State& s) { log_lines(s, errand::LogFormat::json); }
BENCHMARK(BM_LogLineJson)->Threads(1);

}  // namespace
