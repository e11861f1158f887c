// One transcribe() call: its already-planned chunks, decode options, and the channel back to JS.
// Everything here is plain C++ converted from JS on the main thread (the "baton"); worker threads
// read it and report through the job's thread-safe function only.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "NativeError.h"

namespace wf {

struct ChunkSpec {
  int index = 0;           // the caller's chunk index, echoed in events and results
  double offsetMs = 0;     // where sample 0 of this chunk lies on the file's timeline
  std::vector<float> pcm;  // inline 16 kHz mono samples, or empty when read from `path`
  std::string path;        // raw little-endian float32 file, read by the worker when it runs
  int64_t sampleOffset = 0;
  int64_t sampleCount = 0;
  double speed = 1;  // played this much faster (SpeedUp.h) on the worker, before whisper hears it
};

struct DecodeOptions {
  int threads = 1;
  std::string language = "auto";
  bool translate = false;
  std::string initialPrompt;
  bool carryInitialPrompt = false;
  bool noContext = true;
  int maxTextContext = -1;  // tokens of earlier windows' text carried as a prompt; -1: whisper.cpp's default
  int beamSize = 0;  // 0 or 1: greedy
  int bestOf = 5;
  float temperature = 0.0f;
  float temperatureInc = 0.2f;
  float entropyThreshold = 2.4f;
  float logprobThreshold = -1.0f;
  float noSpeechThreshold = 0.6f;
  bool tokenTimestamps = false;
  bool tokens = false;  // return per-token data
  int maxSegmentLength = 0;
  bool splitOnWord = false;
  int maxTokensPerSegment = 0;
  bool suppressNonSpeech = false;
  bool suppressBlank = true;
  std::string vadModelPath;
  float vadThreshold = 0.5f;
  int vadMinSpeechMs = 250;
  int vadMinSilenceMs = 100;
  int vadSpeechPadMs = 30;
};

struct TokenResult {
  int id = 0;
  std::string text;
  float p = 0;
  double t0Ms = -1, t1Ms = -1;
  bool special = false;
};

// A word assembled from whisper tokens on the byte level, so multi-byte characters split across
// tokens (Korean, emoji) come out whole.
struct WordResult {
  std::string text;
  double t0Ms = -1, t1Ms = -1;
  float p = 0;  // lowest token probability in the word
};

struct SegmentResult {
  double t0Ms = 0, t1Ms = 0;
  std::string text;
  float noSpeechProb = 0;
  bool speakerTurnNext = false;
  std::vector<TokenResult> tokens;
  std::vector<WordResult> words;
};

struct ChunkResult {
  int index = 0;
  int workerId = 0;
  std::string language;
  double startedAtMs = 0;  // steady clock, ms since an arbitrary epoch (same for all chunks)
  double wallMs = 0, melMs = 0, encodeMs = 0, decoderMs = 0;  // decoderMs: whisper's token decoder
  int temperatureRetries = 0;  // windows decoded again at a higher temperature
  int windows = 0;             // 30-second windows whisper.cpp encoded for this chunk
  double audioMs = 0;
  double stoppedAtMs = -1;     // ended early (stopAt): where its text ends on the file's timeline; -1: ran to its end
  std::vector<SegmentResult> segments;
};

enum class JobEventType { ChunkStart, Progress, Segments, ChunkDone, Settle };

struct JobEvent {
  JobEventType type;
  int chunkIndex = -1;
  int workerId = -1;
  int percent = 0;
  std::unique_ptr<ChunkResult> result;  // ChunkDone: the whole chunk; Segments: the new segments only
  std::unique_ptr<Failure> failure;  // Settle only: the reason the job failed
};

// JS-side state of a job, touched only on the main thread.
struct JobJsContext {
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference model;    // keeps the WhisperModel alive for the whole job
  Napi::ObjectReference results;  // JS array of chunk results, filled as chunks finish
  explicit JobJsContext(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void callJobJs(Napi::Env env, Napi::Function onEvent, JobJsContext* context, JobEvent* event);
using JobTsfn = Napi::TypedThreadSafeFunction<JobJsContext, JobEvent, callJobJs>;

enum AbortCode : int { kNotAborted = 0, kAborted = 1, kDisposed = 2, kFailed = 3 };

class TranscribeJob {
 public:
  TranscribeJob(int64_t id, DecodeOptions options, std::vector<ChunkSpec> chunks, JobTsfn tsfn);

  const int64_t id;
  const DecodeOptions options;
  std::vector<ChunkSpec> chunks;
  std::atomic<int> abortCode{kNotAborted};
  // Where the caller wants this job's chunks to end early, on the file's timeline as the worker hears
  // it (ms; < 0: never): each ends at the first window that starts once its text reaches this point.
  std::atomic<double> stopAtMs{-1};

  bool aborted() const { return abortCode.load(std::memory_order_relaxed) != kNotAborted; }
  void requestAbort(int code);

  // Events; safe from any thread, never blocking.
  void emitStart(int chunkIndex, int workerId);
  void emitProgress(int chunkIndex, int workerId, int percent);
  // Segments whisper.cpp has just finished in a running chunk (text and times only).
  void emitSegments(int chunkIndex, int workerId, std::vector<SegmentResult> segments);
  // Every task (chunk) ends exactly once through one of these; the last one settles the job.
  // Each returns true when it ended the job's last task (the job may have settled earlier).
  bool finishOk(std::unique_ptr<ChunkResult> result);
  bool finishFailed(Failure failure);
  bool finishSkipped();
  // Settles an aborted job now, before its running chunks have stopped.
  bool settleIfAborted();

 private:
  bool finishLocked(std::unique_lock<std::mutex>& lock);
  void settleLocked();
  std::mutex mutex_;
  size_t pending_;
  std::unique_ptr<Failure> failure_;
  JobTsfn tsfn_;
  bool settled_ = false;
};

// Reads chunks and options from JS values, throwing INVALID_ARGUMENT errors that name the field.
std::vector<ChunkSpec> chunksFromJs(Napi::Env env, const Napi::Value& value);
DecodeOptions decodeOptionsFromJs(Napi::Env env, const Napi::Value& value);

}  // namespace wf
