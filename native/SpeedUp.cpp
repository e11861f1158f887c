#include "SpeedUp.h"

#include <algorithm>
#include <cmath>

namespace wf {

namespace {

constexpr int kZeroCrossings = 16;  // of the sinc on each side: the kernel's half-width, in its own periods
constexpr double kCutoff = 0.92;    // as a share of the new Nyquist: the transition band ends below it
constexpr double kBeta = 6;         // Kaiser window shape: about 60 dB of stop-band attenuation
constexpr int kPhases = 512;        // sub-sample phases tabulated: a phase error of at most 1/1024 sample
constexpr double kPi = 3.14159265358979323846;

// Modified Bessel function of the first kind, order 0 (power series).
double bessel0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50 && term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

struct Kernel {
  int taps = 0;
  int half = 0;
  std::vector<float> weights;  // kPhases rows of `taps`
};

Kernel kernelFor(double speed) {
  Kernel k;
  const double cutoff = kCutoff / speed;          // of the input's Nyquist
  const double radius = kZeroCrossings / cutoff;  // in input samples
  k.half = static_cast<int>(std::ceil(radius));
  k.taps = 2 * k.half;
  k.weights.resize(static_cast<size_t>(kPhases) * k.taps);
  const double norm = bessel0(kBeta);
  std::vector<double> row(k.taps);
  for (int p = 0; p < kPhases; p++) {
    const double frac = static_cast<double>(p) / kPhases;
    double sum = 0;
    for (int t = 0; t < k.taps; t++) {
      // Input sample (i0 - half + 1 + t) sits at distance d from the output position i0 + frac.
      const double d = t - k.half + 1 - frac;
      const double x = d * cutoff;
      const double sinc = x == 0 ? 1 : std::sin(kPi * x) / (kPi * x);
      const double u = std::fabs(d) / radius;
      const double w = u >= 1 ? 0 : bessel0(kBeta * std::sqrt(1 - u * u)) / norm;
      row[t] = sinc * w;
      sum += row[t];
    }
    for (int t = 0; t < k.taps; t++) k.weights[static_cast<size_t>(p) * k.taps + t] = static_cast<float>(row[t] / sum);
  }
  return k;
}

}  // namespace

int64_t spedUpLength(int64_t samples, double speed) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(samples) / speed)));
}

std::vector<float> speedUp(const float* samples, size_t n, double speed) {
  if (speed == 1 || n == 0) return std::vector<float>(samples, samples + n);
  const Kernel k = kernelFor(speed);  // ~1 ms: cheaper than sharing a cache between workers
  const int64_t count = static_cast<int64_t>(n);
  std::vector<float> out(static_cast<size_t>(spedUpLength(count, speed)));
  for (size_t j = 0; j < out.size(); j++) {
    const double pos = static_cast<double>(j) * speed;
    int64_t i0 = static_cast<int64_t>(std::floor(pos));
    int phase = static_cast<int>(std::lround((pos - static_cast<double>(i0)) * kPhases));
    if (phase == kPhases) {
      phase = 0;
      i0++;
    }
    const float* w = k.weights.data() + static_cast<size_t>(phase) * k.taps;
    const int64_t first = i0 - k.half + 1;
    float acc = 0;
    if (first >= 0 && first + k.taps <= count) {
      const float* x = samples + first;
      for (int t = 0; t < k.taps; t++) acc += x[t] * w[t];
    } else {
      // At the edges the missing neighbours count as silence, the weights still applied.
      for (int t = 0; t < k.taps; t++) {
        const int64_t i = first + t;
        if (i >= 0 && i < count) acc += samples[i] * w[t];
      }
    }
    out[j] = acc;
  }
  return out;
}

}  // namespace wf
