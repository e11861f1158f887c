#include "WorkerPool.h"

#include <algorithm>
#include <string>

#include "ChunkRunner.h"
#include "NativeLog.h"
#include "WhisperInit.h"
#include "whisper.h"

namespace wf {
namespace {

const std::vector<std::string> kStateLabels = {
    "kv self size", "kv cross size", "kv pad  size", "compute buffer (conv)", "compute buffer (encode)",
    "compute buffer (cross)", "compute buffer (decode)"};

}  // namespace

WorkerPool::WorkerPool(whisper_context* ctx, bool hugePages) : ctx_(ctx), hugePages_(hugePages) {}

WorkerPool::~WorkerPool() { shutdown(); }

std::unique_ptr<Failure> WorkerPool::resize(size_t count) {
  std::lock_guard<std::mutex> resizeLock(resizeMutex_);
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) return std::make_unique<Failure>(Failure{"DISPOSED", "The model has been disposed."});
  std::vector<Worker*> live;
  for (auto& w : workers_)
    if (!w->retire && !w->exited) live.push_back(w.get());
  if (count > live.size()) {
    std::vector<Worker*> added;
    for (size_t i = live.size(); i < count; i++) {
      auto worker = std::make_unique<Worker>();
      worker->id = nextWorkerId_++;
      Worker* raw = worker.get();
      workers_.push_back(std::move(worker));
      added.push_back(raw);
      raw->thread = std::thread([this, raw] { run(raw); });
    }
    workerChanged_.wait(lock, [&] {
      for (Worker* w : added)
        if (!w->ready && !w->exited) return false;
      return true;
    });
  } else if (count < live.size()) {
    // Retiring workers finish the chunk they are running and then exit on their own; waiting for
    // them here would hold this thread (a libuv pool thread: four of them serve every fs call of the
    // process) for up to a whole chunk. They are joined by a later resize or by shutdown.
    for (size_t i = count; i < live.size(); i++) live[i]->retire = true;
    workAvailable_.notify_all();
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

bool WorkerPool::stopJobAt(int64_t jobId, double atMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(jobId);
  if (it == jobs_.end()) return false;
  std::shared_ptr<TranscribeJob> job = it->second.lock();
  if (!job || job->aborted()) return false;
  job->stopAtMs.store(atMs, std::memory_order_relaxed);
  return true;
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
    state = initState(ctx_, hugePages_);
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
  ChunkRunner runner(ctx_, hugePages_, job, chunk, worker->id);
  return runner.run(worker->state, failure);
}

}  // namespace wf
