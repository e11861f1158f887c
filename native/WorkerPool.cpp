#include "WorkerPool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "NativeLog.h"
#include "whisper.h"

namespace wf {
namespace {

using Clock = std::chrono::steady_clock;

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
double msSinceEpoch(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

const std::vector<std::string> kStateLabels = {
    "kv self size", "kv cross size", "kv pad  size", "compute buffer (conv)", "compute buffer (encode)",
    "compute buffer (cross)", "compute buffer (decode)"};

// What whisper.cpp's callbacks see while one chunk runs on one worker.
struct ChunkRun {
  TranscribeJob* job;
  int chunkIndex;
  int workerId;
  int lastPercent = -1;
  Clock::time_point start;
  Clock::time_point encodeStart;
  bool inEncode = false;
  double melMs = -1;
  double encodeMs = 0;
  int fallbacks = 0;
  bool windowHasTokens = false;
};

bool onAbortCheck(void* data) { return static_cast<ChunkRun*>(data)->job->aborted(); }

bool onEncoderBegin(whisper_context*, whisper_state*, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  run->encodeStart = Clock::now();
  if (run->melMs < 0) run->melMs = msBetween(run->start, run->encodeStart);
  run->inEncode = true;
  run->windowHasTokens = false;
  return !run->job->aborted();
}

// Called per decoder step; used only to time the encoder and to count temperature fallbacks
// (whisper.cpp keeps those counters private to the state): a new decoding round that starts from
// zero tokens after this window already produced tokens is a fallback.
void onLogits(whisper_context*, whisper_state*, const whisper_token_data*, int nTokens, float*, void* data) {
  auto* run = static_cast<ChunkRun*>(data);
  if (run->inEncode) {
    run->encodeMs += msBetween(run->encodeStart, Clock::now());
    run->inEncode = false;
  }
  if (nTokens == 0) {
    if (run->windowHasTokens) run->fallbacks++;
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

WorkerPool::WorkerPool(whisper_context* ctx) : ctx_(ctx) {}

WorkerPool::~WorkerPool() { shutdown(); }

std::unique_ptr<Failure> WorkerPool::resize(size_t count) {
  std::lock_guard<std::mutex> resizeLock(resizeMutex_);
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) return std::make_unique<Failure>(Failure{"DISPOSED", "The model has been disposed."});
  size_t current = workers_.size();
  if (count > current) {
    for (size_t i = current; i < count; i++) {
      auto worker = std::make_unique<Worker>();
      worker->id = nextWorkerId_++;
      Worker* raw = worker.get();
      workers_.push_back(std::move(worker));
      raw->thread = std::thread([this, raw] { run(raw); });
    }
    workerChanged_.wait(lock, [&] {
      for (size_t i = current; i < count; i++)
        if (!workers_[i]->ready && !workers_[i]->exited) return false;
      return true;
    });
  } else {
    for (size_t i = count; i < current; i++) workers_[i]->retire = true;
    workAvailable_.notify_all();
    workerChanged_.wait(lock, [&] {
      for (size_t i = count; i < current; i++)
        if (!workers_[i]->exited) return false;
      return true;
    });
  }
  // Collect workers that have exited (retired, or whose state could not be created).
  std::unique_ptr<Failure> failure;
  std::vector<std::unique_ptr<Worker>> finished;
  for (size_t i = 0; i < workers_.size();) {
    if (workers_[i]->exited) {
      if (!workers_[i]->initError.empty() && !failure)
        failure = std::make_unique<Failure>(Failure{"OUT_OF_MEMORY", workers_[i]->initError});
      finished.push_back(std::move(workers_[i]));
      workers_.erase(workers_.begin() + static_cast<long>(i));
    } else {
      i++;
    }
  }
  lock.unlock();
  for (auto& w : finished)
    if (w->thread.joinable()) w->thread.join();
  return failure;
}

void WorkerPool::submit(const std::shared_ptr<TranscribeJob>& job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) {
    lock.unlock();
    job->requestAbort(kDisposed);
    for (size_t i = 0; i < job->chunks.size(); i++) job->finishSkipped();
    return;
  }
  jobs_[job->id] = job;
  for (size_t i = 0; i < job->chunks.size(); i++) queue_.push_back(Task{job, i});
  workAvailable_.notify_all();
}

void WorkerPool::abortJob(int64_t jobId, int code) {
  std::vector<Task> dropped;
  std::shared_ptr<TranscribeJob> job;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(jobId);
    if (it == jobs_.end()) return;
    job = it->second.lock();
    if (!job) return;
    job->requestAbort(code);
    // Queued chunks of this job are dropped now so the job settles within a second even when every
    // worker is busy with another job's chunks; running ones stop at whisper's next abort check.
    for (auto t = queue_.begin(); t != queue_.end();) {
      if (t->job.get() == job.get()) {
        dropped.push_back(std::move(*t));
        t = queue_.erase(t);
      } else {
        ++t;
      }
    }
  }
  bool ended = false;
  for (size_t i = 0; i < dropped.size(); i++) ended = job->finishSkipped() || ended;
  job->settleIfAborted();
  if (ended) forget(jobId);
}

void WorkerPool::forget(int64_t jobId) {
  std::lock_guard<std::mutex> lock(mutex_);
  jobs_.erase(jobId);
}

void WorkerPool::shutdown() {
  std::lock_guard<std::mutex> resizeLock(resizeMutex_);
  std::deque<Task> dropped;
  std::vector<std::unique_ptr<Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (auto& entry : jobs_)
      if (auto job = entry.second.lock()) job->requestAbort(kDisposed);
    dropped.swap(queue_);
    workAvailable_.notify_all();
  }
  for (auto& task : dropped) task.job->finishSkipped();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& w : workers)
    if (w->thread.joinable()) w->thread.join();
  std::lock_guard<std::mutex> lock(mutex_);
  jobs_.clear();
}

PoolMemory WorkerPool::memory() {
  std::lock_guard<std::mutex> lock(mutex_);
  PoolMemory m;
  for (auto& w : workers_)
    if (w->ready && !w->retire) m.workers++;
  m.stateBytes = stateBytes_;
  return m;
}

void WorkerPool::run(Worker* worker) {
  whisper_state* state = nullptr;
  int64_t bytes = 0;
  std::string thrown;
  try {
    LogCapture capture;
    resetLastNativeError();
    state = whisper_init_state(ctx_);
    bytes = sumLoggedMegabytes(capture.text, kStateLabels);
  } catch (const std::exception& e) {
    thrown = e.what();
    state = nullptr;
  } catch (...) {
    thrown = "unknown exception";
    state = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state == nullptr) {
      std::string detail = thrown.empty() ? lastNativeError() : "whisper.cpp threw: " + thrown;
      worker->initError = "Could not create whisper state for worker " + std::to_string(worker->id) +
                          (detail.empty() ? "" : " (" + detail + ")") +
                          "; the machine is probably out of memory. Use fewer workers or a smaller model.";
      worker->exited = true;
      workerChanged_.notify_all();
      return;
    }
    worker->state = state;
    worker->ready = true;
    if (stateBytes_ == 0) stateBytes_ = bytes;
    workerChanged_.notify_all();
  }
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      workAvailable_.wait(lock, [&] { return stopping_ || worker->retire || !queue_.empty(); });
      if (stopping_ || worker->retire) break;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    runTask(worker, task);
  }
  if (worker->state != nullptr) whisper_free_state(worker->state);
  std::lock_guard<std::mutex> lock(mutex_);
  worker->state = nullptr;
  worker->exited = true;
  workerChanged_.notify_all();
}

void WorkerPool::runTask(Worker* worker, const Task& task) {
  TranscribeJob& job = *task.job;
  ChunkSpec& chunk = job.chunks[task.chunk];
  bool settled;
  if (job.aborted()) {
    settled = job.finishSkipped();
  } else {
    Failure failure;
    std::unique_ptr<ChunkResult> result;
    try {
      result = transcribeChunk(worker, job, chunk, failure);
    } catch (const std::exception& e) {
      result.reset();
      failure = failureFromException("TRANSCRIBE_FAILED", "whisper.cpp failed on chunk " + std::to_string(chunk.index), e.what());
    } catch (...) {
      result.reset();
      failure = failureFromException("TRANSCRIBE_FAILED", "whisper.cpp failed on chunk " + std::to_string(chunk.index), nullptr);
    }
    if (result) {
      settled = job.finishOk(std::move(result));
    } else if (job.aborted() && failure.code.empty()) {
      settled = job.finishSkipped();
    } else {
      failure.chunkIndex = chunk.index;
      settled = job.finishFailed(std::move(failure));
    }
  }
  // Inline samples are released as soon as the chunk is done, not when the whole job ends.
  std::vector<float>().swap(chunk.pcm);
  if (settled) forget(job.id);
}

std::unique_ptr<ChunkResult> WorkerPool::transcribeChunk(Worker* worker, TranscribeJob& job, ChunkSpec& chunk,
                                                         Failure& failure) {
  const DecodeOptions& o = job.options;
  ChunkRun run{&job, chunk.index, worker->id};
  run.start = Clock::now();
  job.emitStart(chunk.index, worker->id);

  std::vector<float> fromFile;
  const std::vector<float>* samples = &chunk.pcm;
  if (!chunk.path.empty()) {
    if (!readSamples(chunk, fromFile, failure)) return nullptr;
    samples = &fromFile;
  }
  for (size_t i = 0; i < samples->size(); i++) {
    if (!std::isfinite((*samples)[i])) {
      failure = {"INVALID_AUDIO", "Chunk " + std::to_string(chunk.index) + " contains a NaN or infinite sample at " +
                                      std::to_string(i) + "; decoded audio must be finite floats in [-1, 1]."};
      return nullptr;
    }
  }

  if (worker->state == nullptr) {  // whisper.cpp freed it after an earlier failure; replace it
    worker->state = whisper_init_state(ctx_);
    if (worker->state == nullptr) {
      failure = {"OUT_OF_MEMORY", "Could not recreate the whisper state of worker " + std::to_string(worker->id) + "."};
      return nullptr;
    }
  }

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
  p.abort_callback_user_data = &run;
  p.encoder_begin_callback = onEncoderBegin;
  p.encoder_begin_callback_user_data = &run;
  p.logits_filter_callback = onLogits;
  p.logits_filter_callback_user_data = &run;
  p.progress_callback = onProgress;
  p.progress_callback_user_data = &run;

  resetLastNativeError();
  int rc = whisper_full_with_state(ctx_, worker->state, p, samples->data(), static_cast<int>(samples->size()));
  if (rc == -7) worker->state = nullptr;  // whisper.cpp freed the state on this error
  // An aborted encode returns an ordinary error code: the flag decides first.
  if (job.aborted()) return nullptr;
  if (rc != 0) {
    std::string detail = lastNativeError();
    failure = {codeForReturn(rc), "whisper.cpp failed on chunk " + std::to_string(chunk.index) + " (code " +
                                      std::to_string(rc) + (detail.empty() ? "" : ": " + detail) + ")."};
    return nullptr;
  }

  auto result = std::make_unique<ChunkResult>();
  Clock::time_point end = Clock::now();
  result->index = chunk.index;
  result->workerId = worker->id;
  result->startedAtMs = msSinceEpoch(run.start);
  result->wallMs = msBetween(run.start, end);
  result->melMs = std::max(0.0, run.melMs);
  result->encodeMs = run.encodeMs;
  result->decodeMs = std::max(0.0, result->wallMs - result->melMs - result->encodeMs);
  result->fallbacks = run.fallbacks;
  result->audioMs = static_cast<double>(samples->size()) / 16.0;
  if (!whisper_is_multilingual(ctx_)) {
    result->language = "en";
  } else if (o.language != "auto") {
    result->language = o.language;
  } else {
    int langId = whisper_full_lang_id_from_state(worker->state);
    const char* lang = langId >= 0 ? whisper_lang_str(langId) : nullptr;
    result->language = lang != nullptr ? lang : "";
  }
  const whisper_token eot = whisper_token_eot(ctx_);
  int n = whisper_full_n_segments_from_state(worker->state);
  result->segments.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    SegmentResult s;
    s.t0Ms = chunk.offsetMs + 10.0 * static_cast<double>(whisper_full_get_segment_t0_from_state(worker->state, i));
    s.t1Ms = chunk.offsetMs + 10.0 * static_cast<double>(whisper_full_get_segment_t1_from_state(worker->state, i));
    const char* text = whisper_full_get_segment_text_from_state(worker->state, i);
    s.text = text != nullptr ? text : "";
    s.noSpeechProb = whisper_full_get_segment_no_speech_prob_from_state(worker->state, i);
    s.speakerTurnNext = whisper_full_get_segment_speaker_turn_next_from_state(worker->state, i);
    if (o.tokens) {
      int nt = whisper_full_n_tokens_from_state(worker->state, i);
      for (int j = 0; j < nt; j++) {
        whisper_token_data d = whisper_full_get_token_data_from_state(worker->state, i, j);
        TokenResult t;
        t.id = d.id;
        const char* tt = whisper_full_get_token_text_from_state(ctx_, worker->state, i, j);
        t.text = tt != nullptr ? tt : "";
        t.p = d.p;
        t.special = d.id >= eot;
        if (o.tokenTimestamps && d.t0 >= 0) {
          t.t0Ms = chunk.offsetMs + 10.0 * static_cast<double>(d.t0);
          t.t1Ms = chunk.offsetMs + 10.0 * static_cast<double>(d.t1);
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
