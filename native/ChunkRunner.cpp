#include "ChunkRunner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "NativeLog.h"
#include "SpeedUp.h"
#include "WhisperInit.h"
#include "whisper.h"

namespace wf {

using Clock = std::chrono::steady_clock;

// What whisper.cpp's callbacks see while one chunk runs on one worker.
struct ChunkRun {
  TranscribeJob* job;
  int chunkIndex;
  int workerId;
  double offsetMs;
  int lastPercent = -1;
  Clock::time_point start;
  Clock::time_point encodeStart;
  bool inEncode = false;
  double melMs = -1;
  double encodeMs = 0;
  int temperatureRetries = 0;
  int windows = 0;  // encoder runs: one per 30-second window whisper.cpp decodes
  bool windowHasTokens = false;
  double stoppedAtMs = -1;  // where the text ended when the job's stopAtMs ended the chunk early
};

namespace {

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
double msSinceEpoch(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

bool onAbortCheck(void* data) { return static_cast<ChunkRun*>(data)->job->aborted(); }

// Where the text of this chunk ends so far, on the file's timeline (-1 before any). whisper.cpp's
// next window starts there or later: a window's last segment ends at the point its seek moves to,
// or before it (a window with no text, or one ending on a lone timestamp, moves on by a whole window).
double textEndMs(whisper_state* state, double offsetMs) {
  const int n = whisper_full_n_segments_from_state(state);
  return n > 0 ? offsetMs + 10.0 * static_cast<double>(whisper_full_get_segment_t1_from_state(state, n - 1)) : -1;
}

bool onEncoderBegin(whisper_context*, whisper_state* state, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  // Asked to end early: once the text reaches the stop point, the next window is not run (whisper.cpp
  // keeps the segments so far and returns success).
  const double stopAt = run->job->stopAtMs.load(std::memory_order_relaxed);
  if (stopAt >= 0 && run->windows > 0) {
    const double end = textEndMs(state, run->offsetMs);
    if (end >= stopAt) {
      run->stoppedAtMs = end;
      return false;
    }
  }
  run->encodeStart = Clock::now();
  if (run->melMs < 0) run->melMs = msBetween(run->start, run->encodeStart);
  run->inEncode = true;
  run->windows++;
  run->windowHasTokens = false;
  return !run->job->aborted();
}

// Called per decoder step; used only to time the encoder and to count temperature retries
// (whisper.cpp keeps those counters private to the state): a new decoding round that starts from
// zero tokens after this window already produced tokens is a fallback.
void onLogits(whisper_context*, whisper_state*, const whisper_token_data*, int nTokens, float*, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  if (run->inEncode) {
    run->encodeMs += msBetween(run->encodeStart, Clock::now());
    run->inEncode = false;
  }
  if (nTokens == 0) {
    if (run->windowHasTokens) run->temperatureRetries++;
    run->windowHasTokens = false;
  } else {
    run->windowHasTokens = true;
  }
}

void onProgress(whisper_context*, whisper_state*, int percent, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  percent = std::max(0, std::min(99, percent));  // 100 is reported by the chunk-done event
  if (percent <= run->lastPercent) return;      // monotonic per chunk
  run->lastPercent = percent;
  run->job->emitProgress(run->chunkIndex, run->workerId, percent);
}

// Segment `i` of a chunk placed on the file's timeline: its times, text and no-speech probability.
SegmentResult segmentAt(whisper_state* state, int i, double offsetMs) {
  SegmentResult s;
  s.t0Ms = offsetMs + 10.0 * static_cast<double>(whisper_full_get_segment_t0_from_state(state, i));
  s.t1Ms = offsetMs + 10.0 * static_cast<double>(whisper_full_get_segment_t1_from_state(state, i));
  const char* text = whisper_full_get_segment_text_from_state(state, i);
  s.text = text != nullptr ? text : "";
  s.noSpeechProb = whisper_full_get_segment_no_speech_prob_from_state(state, i);
  return s;
}

// whisper.cpp has finished `nNew` segments of this chunk: their text goes out now, long before the
// chunk ends (the words, tokens and probabilities come with the chunk's result).
void onNewSegments(whisper_context*, whisper_state* state, int nNew, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  const int n = whisper_full_n_segments_from_state(state);
  std::vector<SegmentResult> segments;
  for (int i = std::max(0, n - nNew); i < n; i++) segments.push_back(segmentAt(state, i, run->offsetMs));
  if (!segments.empty()) run->job->emitSegments(run->chunkIndex, run->workerId, std::move(segments));
}

std::string codeForReturn(int rc) {
  switch (rc) {
    case -2: return "INVALID_AUDIO";
    case -3: return "LANGUAGE_DETECT_FAILED";
    case -6: return "ENCODE_FAILED";
    case -7:
    case -8:
    case -9: return "DECODE_FAILED";
    default: return "TRANSCRIBE_FAILED";
  }
}

bool readSamples(const ChunkSpec& chunk, std::vector<float>& out, Failure& failure) {
  std::ifstream in(chunk.path, std::ios::binary | std::ios::ate);
  if (!in) {
    failure = {"AUDIO_READ_FAILED", "Could not open decoded audio " + chunk.path + " for chunk " +
                                        std::to_string(chunk.index) + "."};
    return false;
  }
  int64_t totalSamples = static_cast<int64_t>(in.tellg()) / 4;
  if (chunk.sampleOffset + chunk.sampleCount > totalSamples) {
    failure = {"INVALID_ARGUMENT", "Chunk " + std::to_string(chunk.index) + " asks for samples " +
                                       std::to_string(chunk.sampleOffset) + ".." +
                                       std::to_string(chunk.sampleOffset + chunk.sampleCount) + " but " + chunk.path +
                                       " holds only " + std::to_string(totalSamples) + " samples."};
    return false;
  }
  out.resize(static_cast<size_t>(chunk.sampleCount));
  in.seekg(chunk.sampleOffset * 4);
  in.read(reinterpret_cast<char*>(out.data()), chunk.sampleCount * 4);
  if (!in) {
    failure = {"AUDIO_READ_FAILED", "Reading samples of chunk " + std::to_string(chunk.index) + " from " +
                                        chunk.path + " failed."};
    return false;
  }
  return true;
}

}  // namespace

ChunkRunner::ChunkRunner(whisper_context* ctx, bool hugePages, TranscribeJob& job, ChunkSpec& chunk, int workerId)
    : ctx_(ctx), hugePages_(hugePages), job_(job), chunk_(chunk), workerId_(workerId), run_(std::make_unique<ChunkRun>(ChunkRun{&job, chunk.index, workerId, chunk.offsetMs})) {}

ChunkRunner::~ChunkRunner() = default;

std::unique_ptr<ChunkResult> ChunkRunner::run(whisper_state*& state, Failure& failure) {
  run_->start = Clock::now();
  job_.emitStart(chunk_.index, workerId_);

  std::vector<float> fromFile;
  const std::vector<float>* samples = &chunk_.pcm;
  if (!chunk_.path.empty()) {
    if (!readSamples(chunk_, fromFile, failure)) return nullptr;
    samples = &fromFile;
  }
  std::vector<float> spedUp;
  if (chunk_.speed > 1) {
    spedUp = speedUp(samples->data(), samples->size(), chunk_.speed);
    samples = &spedUp;
  }
  for (size_t i = 0; i < samples->size(); i++) {
    if (!std::isfinite((*samples)[i])) {
      failure = {"INVALID_AUDIO", "Chunk " + std::to_string(chunk_.index) + " contains a NaN or infinite sample at " +
                                      std::to_string(i) + "; decoded audio must be finite floats in [-1, 1]."};
      return nullptr;
    }
  }

  if (state == nullptr) {  // whisper.cpp freed it after an earlier failure; replace it
    state = initState(ctx_, hugePages_);
    if (state == nullptr) {
      failure = {"OUT_OF_MEMORY", "Could not recreate the whisper state of worker " + std::to_string(workerId_) + "."};
      return nullptr;
    }
  }

  whisper_full_params p = fullParamsFor();
  resetLastNativeError();
  int rc = whisper_full_with_state(ctx_, state, p, samples->data(), static_cast<int>(samples->size()));
  if (rc == -7) state = nullptr;  // whisper.cpp freed the state on this error
  // An aborted encode returns an ordinary error code: the flag decides first.
  if (job_.aborted()) return nullptr;
  if (rc != 0) {
    std::string detail = lastNativeError();
    failure = {codeForReturn(rc), "whisper.cpp failed on chunk " + std::to_string(chunk_.index) + " (code " +
                                      std::to_string(rc) + (detail.empty() ? "" : ": " + detail) + ")."};
    return nullptr;
  }

  return collectResult(state, samples->size());
}

whisper_full_params ChunkRunner::fullParamsFor() {
  const DecodeOptions& o = job_.options;
  whisper_full_params p = whisper_full_default_params(o.beamSize > 1 ? WHISPER_SAMPLING_BEAM_SEARCH
                                                                     : WHISPER_SAMPLING_GREEDY);
  p.n_threads = o.threads;
  p.translate = o.translate;
  p.no_context = o.noContext;
  if (o.maxTextContext >= 0) p.n_max_text_ctx = o.maxTextContext;
  p.print_progress = false;
  p.print_realtime = false;
  p.print_timestamps = false;
  p.print_special = false;
  p.token_timestamps = o.tokenTimestamps;
  p.max_len = o.maxSegmentLength;
  p.split_on_word = o.splitOnWord;
  p.max_tokens = o.maxTokensPerSegment;
  p.suppress_nst = o.suppressNonSpeech;
  p.suppress_blank = o.suppressBlank;
  p.temperature = o.temperature;
  p.temperature_inc = o.temperatureInc;
  p.entropy_thold = o.entropyThreshold;
  p.logprob_thold = o.logprobThreshold;
  p.no_speech_thold = o.noSpeechThreshold;
  p.greedy.best_of = o.bestOf;
  p.beam_search.beam_size = std::max(1, o.beamSize);
  p.language = o.language.c_str();
  p.detect_language = false;
  p.initial_prompt = o.initialPrompt.empty() ? nullptr : o.initialPrompt.c_str();
  p.carry_initial_prompt = o.carryInitialPrompt;
  p.vad = !o.vadModelPath.empty();
  p.vad_model_path = p.vad ? o.vadModelPath.c_str() : nullptr;
  p.vad_params.threshold = o.vadThreshold;
  p.vad_params.min_speech_duration_ms = o.vadMinSpeechMs;
  p.vad_params.min_silence_duration_ms = o.vadMinSilenceMs;
  p.vad_params.speech_pad_ms = o.vadSpeechPadMs;
  p.abort_callback = onAbortCheck;
  p.abort_callback_user_data = run_.get();
  p.encoder_begin_callback = onEncoderBegin;
  p.encoder_begin_callback_user_data = run_.get();
  p.logits_filter_callback = onLogits;
  p.logits_filter_callback_user_data = run_.get();
  p.progress_callback = onProgress;
  p.progress_callback_user_data = run_.get();
  p.new_segment_callback = onNewSegments;
  p.new_segment_callback_user_data = run_.get();
  return p;
}

std::unique_ptr<ChunkResult> ChunkRunner::collectResult(whisper_state* state, size_t sampleCount) {
  const DecodeOptions& o = job_.options;
  auto result = std::make_unique<ChunkResult>();
  Clock::time_point end = Clock::now();
  result->index = chunk_.index;
  result->workerId = workerId_;
  result->startedAtMs = msSinceEpoch(run_->start);
  result->wallMs = msBetween(run_->start, end);
  result->melMs = std::max(0.0, run_->melMs);
  result->encodeMs = run_->encodeMs;
  result->decoderMs = std::max(0.0, result->wallMs - result->melMs - result->encodeMs);
  result->temperatureRetries = run_->temperatureRetries;
  result->windows = run_->windows;
  result->stoppedAtMs = run_->stoppedAtMs;
  result->audioMs = static_cast<double>(sampleCount) / 16.0;
  if (!whisper_is_multilingual(ctx_)) {
    result->language = "en";
  } else if (o.language != "auto") {
    result->language = o.language;
  } else {
    int langId = whisper_full_lang_id_from_state(state);
    const char* lang = langId >= 0 ? whisper_lang_str(langId) : nullptr;
    result->language = lang != nullptr ? lang : "";
  }
  const whisper_token eot = whisper_token_eot(ctx_);
  int n = whisper_full_n_segments_from_state(state);
  result->segments.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    SegmentResult s = segmentAt(state, i, chunk_.offsetMs);
    s.speakerTurnNext = whisper_full_get_segment_speaker_turn_next_from_state(state, i);
    if (o.tokens) {
      int nt = whisper_full_n_tokens_from_state(state, i);
      for (int j = 0; j < nt; j++) {
        whisper_token_data d = whisper_full_get_token_data_from_state(state, i, j);
        TokenResult t;
        t.id = d.id;
        const char* tt = whisper_full_get_token_text_from_state(ctx_, state, i, j);
        t.text = tt != nullptr ? tt : "";
        t.p = d.p;
        t.special = d.id >= eot;
        if (o.tokenTimestamps && d.t0 >= 0) {
          t.t0Ms = chunk_.offsetMs + 10.0 * static_cast<double>(d.t0);
          t.t1Ms = chunk_.offsetMs + 10.0 * static_cast<double>(d.t1);
        }
        if (!t.special) {
          bool startsWord = s.words.empty() || (!t.text.empty() && (t.text[0] == ' ' || t.text[0] == '\n'));
          if (startsWord) s.words.push_back(WordResult{"", t.t0Ms, t.t1Ms, t.p});
          WordResult& w = s.words.back();
          w.text += t.text;
          if (w.t0Ms < 0) w.t0Ms = t.t0Ms;
          if (t.t1Ms >= 0) w.t1Ms = t.t1Ms;
          w.p = std::min(w.p, t.p);
        }
        s.tokens.push_back(std::move(t));
      }
      for (auto& w : s.words) {  // trim the leading space that marks a word start
        size_t b = w.text.find_first_not_of(" \n");
        w.text = b == std::string::npos ? "" : w.text.substr(b);
      }
      s.words.erase(std::remove_if(s.words.begin(), s.words.end(), [](const WordResult& w) { return w.text.empty(); }),
                    s.words.end());
    }
    result->segments.push_back(std::move(s));
  }
  return result;
}

}  // namespace wf
