// GenerateThumbnail: renders a full-size procedural image (a Mandelbrot set,
// coloured) and box-filters it down to a width x height thumbnail, written as
// a binary PPM to thumbs/<name>.ppm. Real CPU work, as image jobs are.
#include <errand/errand.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "jobs/examples.h"

namespace {

using Rgb = std::array<std::uint8_t, 3>;

// Each thumbnail pixel averages a kScale x kScale block of the source image.
constexpr int kScale = 4;
constexpr int kMaxIterations = 64;

Rgb colour(int iterations) {
  if (iterations >= kMaxIterations) return {0, 0, 0};
  const double t = static_cast<double>(iterations) / kMaxIterations;
  // A smooth blue-to-orange ramp (Bernstein polynomials).
  auto channel = [](double v) { return static_cast<std::uint8_t>(std::clamp(v, 0.0, 1.0) * 255); };
  return {channel(8.5 * (1 - t) * t * t * t), channel(15 * (1 - t) * (1 - t) * t * t),
          channel(9 * (1 - t) * (1 - t) * (1 - t) * t)};
}

std::vector<Rgb> render_full(int w, int h, std::uint64_t seed) {
  // The seed pans the view a little, so every thumbnail differs.
  const double cx = -0.75 + static_cast<double>(seed % 7) * 0.01;
  const double cy = static_cast<double>(seed % 5) * 0.01;
  const double span = 3.0;
  std::vector<Rgb> img(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      // Square pixels: one scale for both axes.
      const std::complex<double> c(cx + (x - w / 2.0) * span / w, cy + (y - h / 2.0) * span / w);
      std::complex<double> z = 0;
      int i = 0;
      while (i < kMaxIterations && std::norm(z) <= 4.0) {
        z = z * z + c;
        ++i;
      }
      img[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)] =
          colour(i);
    }
  }
  return img;
}

std::vector<Rgb> box_filter(const std::vector<Rgb>& src, int src_w, int w, int h) {
  std::vector<Rgb> out(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      std::array<int, 3> sum{};
      for (int dy = 0; dy < kScale; ++dy)
        for (int dx = 0; dx < kScale; ++dx) {
          const auto& p =
              src[static_cast<std::size_t>(y * kScale + dy) * static_cast<std::size_t>(src_w) +
                  static_cast<std::size_t>(x * kScale + dx)];
          for (int c = 0; c < 3; ++c) sum[c] += p[c];
        }
      auto& o = out[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) +
                    static_cast<std::size_t>(x)];
      for (int c = 0; c < 3; ++c) o[c] = static_cast<std::uint8_t>(sum[c] / (kScale * kScale));
    }
  }
  return out;
}

}  // namespace

struct GenerateThumbnail {
  static constexpr errand::JobOptions options{.queue = "default", .retry = 3};

  void perform(std::string name, int width, int height) {
    if (width < 1 || height < 1 || width > 1024 || height > 1024)
      throw errand::ArgumentError("GenerateThumbnail: size must be 1..1024, got " +
                                  std::to_string(width) + "x" + std::to_string(height));
    if (name.empty() || name.find('/') != std::string::npos || name.starts_with("."))
      throw errand::ArgumentError("GenerateThumbnail: bad name '" + name + "'");

    const auto full = render_full(width * kScale, height * kScale, std::hash<std::string>{}(name));
    const auto thumb = box_filter(full, width * kScale, width, height);

    auto path = errand::examples::output_dir("thumbs") / (name + ".ppm");
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << "P6\n" << width << ' ' << height << "\n255\n";
      out.write(reinterpret_cast<const char*>(thumb.data()),
                static_cast<std::streamsize>(thumb.size() * sizeof(Rgb)));
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, path);
    errand::examples::record_completion("GenerateThumbnail");
  }
};
ERRAND_JOB(GenerateThumbnail);
