// Plays 16 kHz mono audio a little faster: band-limited resampling, the way Kaldi's speed
// perturbation and ffmpeg's `asetrate` + `aresample` do it — tempo and pitch rise together by
// `speed`. The planner (TypeScript, planning/windowPlan) asks for it to fit a chunk that would
// spill a few seconds into one more 30-second window (a whole window of whisper compute) into the
// windows it has; the engine maps every time back by the same factor. It runs on the worker
// thread that transcribes the chunk, right after reading its samples: never on the event loop.
//
// Each output sample j is the input at position j × speed, interpolated with a Kaiser-windowed
// sinc whose cut-off sits below the new Nyquist (8 kHz / speed), so what lies above it is
// attenuated rather than folded back into the band: flat to ~6 kHz, −60 dB from ~7.7 kHz at a 3%
// speed-up (whisper's mel bank ends at 8 kHz). The kernel is tabulated at kPhases sub-sample
// phases, each row normalised to sum to one (a constant stays constant).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wf {

// The most speedUp accepts: a type bound (a resampler that only shortens, by less than half), not
// the planner's limit (WHISPER_FLEET_MAX_SPEEDUP, a few percent).
constexpr double kMaxSpeedUp = 2;

// Samples `samples` becomes when played `speed` times faster (at least one).
int64_t spedUpLength(int64_t samples, double speed);

// `n` samples played `speed` (1..kMaxSpeedUp) times faster; a copy when speed is 1.
std::vector<float> speedUp(const float* samples, size_t n, double speed);

}  // namespace wf
