// SalesReportsSummary: the demo's batch callback. The demo enqueues its
// BuildSalesReport jobs as one errand::Batch with this job as on_success, so
// it runs once, after every monthly report was written: it reads them back,
// writes reports/summary.txt and prints the summary.
#include <errand/errand.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "jobs/examples.h"

namespace {

/// The "total" figure of a report written by BuildSalesReport.
double report_total(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string label;
    double value = 0;
    if (fields >> label >> value && label == "total") return value;
  }
  throw std::runtime_error(path.string() + " has no total line");
}

}  // namespace

struct SalesReportsSummary {
  static constexpr errand::JobOptions options{.queue = "reports", .retry = 3};

  void perform(std::vector<std::string> months) {
    const auto dir = errand::examples::output_dir("reports");
    double total = 0;
    std::string best;
    double best_total = -1;
    for (const auto& month : months) {
      const double t = report_total(dir / (month + ".txt"));
      total += t;
      if (t > best_total) best_total = t, best = month;
    }
    char text[256];
    std::snprintf(text, sizeof text, "%zu monthly reports, total sales %.2f, best month %s (%.2f)",
                  months.size(), total, best.empty() ? "-" : best.c_str(),
                  best_total < 0 ? 0.0 : best_total);
    const auto path = dir / "summary.txt";
    {
      std::ofstream out(path, std::ios::trunc);
      out << "Sales summary (batch " << errand::current_job().batch_id << ")\n" << text << "\n";
      if (!out) throw std::runtime_error("cannot write " + path.string());
    }
    // On a terminal the demo rewrites its progress line in place: start a new one.
    // One write: the demo prints its progress line from another thread.
    const std::string out = std::string(::isatty(STDOUT_FILENO) == 1 ? "\n" : "") +
                            "errand demo: batch callback SalesReportsSummary: " + text + " -> " +
                            path.string() + "\n";
    std::cout << out << std::flush;
    errand::examples::record_completion("SalesReportsSummary");
  }
};
ERRAND_JOB(SalesReportsSummary);
