// BuildSalesReport: summarises a month of sale amounts (count, total, mean,
// median, p90, p99, min, max) and writes reports/<month>.txt.
#include <errand/errand.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "jobs/examples.h"

namespace {

// Linear interpolation between closest ranks (the "R-7" definition that
// spreadsheets use), on sorted data.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// One "label     value" line of the report.
std::string line(const char* label, double value, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-8s %12.*f\n", label, decimals, value);
  return buf;
}

}  // namespace

struct BuildSalesReport {
  static constexpr errand::JobOptions options{.queue = "reports", .retry = 3};

  void perform(std::string month, std::vector<double> amounts) {
    static const std::regex kMonth(R"(\d{4}-(0[1-9]|1[0-2]))");
    if (!std::regex_match(month, kMonth))
      throw errand::ArgumentError("BuildSalesReport: month must be YYYY-MM, got '" + month + "'");
    for (double a : amounts)
      if (!std::isfinite(a))
        throw errand::ArgumentError("BuildSalesReport: amounts must be finite");

    std::vector<double> sorted = amounts;
    std::sort(sorted.begin(), sorted.end());
    const double total = std::accumulate(sorted.begin(), sorted.end(), 0.0);
    const double n = static_cast<double>(sorted.size());

    std::string text = "Sales report " + month + "\n\n";
    text += line("sales", n, 0);
    text += line("total", total);
    if (!sorted.empty()) {
      text += line("mean", total / n);
      text += line("median", percentile(sorted, 50));
      text += line("p90", percentile(sorted, 90));
      text += line("p99", percentile(sorted, 99));
      text += line("min", sorted.front());
      text += line("max", sorted.back());
    }

    auto path = errand::examples::output_dir("reports") / (month + ".txt");
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, path);
    errand::examples::record_completion("BuildSalesReport");
  }
};
ERRAND_JOB(BuildSalesReport);
