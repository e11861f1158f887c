// A pool of worker threads over one loaded model. Each worker owns a persistent whisper_state and
// runs already-planned chunks from a shared FIFO, so several jobs on one model share the workers:
// a later job's chunks start as soon as a worker is free. Mechanism only: how many workers, which
// chunks and in what order is decided by the TypeScript scheduler.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "TranscribeJob.h"

struct whisper_context;
struct whisper_state;

namespace wf {

struct PoolMemory {
  size_t workers = 0;       // workers with a ready state
  int64_t stateBytes = 0;   // bytes of one worker state, measured when the first was created (0 before)
};

class WorkerPool {
 public:
  // `hugePages`: each state's compute buffers are advised onto huge pages (HugePages.h).
  WorkerPool(whisper_context* ctx, bool hugePages);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Grows or shrinks to `count` workers. Growing blocks until the new states exist; shrinking marks
  // workers retiring and returns at once (each finishes its current chunk, then exits, and is joined
  // by a later resize or by shutdown). Safe while jobs run. Call off the main thread.
  // Returns a failure when a state could not be created (the pool keeps the workers it has).
  std::unique_ptr<Failure> resize(size_t count);

  void submit(const std::shared_ptr<TranscribeJob>& job);
  void abortJob(int64_t jobId, int code);
  // Asks a job's chunks to end early (TranscribeJob::stopAtMs); false when the job has already ended.
  bool stopJobAt(int64_t jobId, double atMs);
  // Aborts every job with DISPOSED, stops and joins all workers, frees their states. Idempotent.
  void shutdown();

  PoolMemory memory();

 private:
  struct Task {
    std::shared_ptr<TranscribeJob> job;
    size_t chunk;
  };
  struct Worker {
    int id = 0;  // fixed for the worker's life: read without the lock by progress events
    std::thread thread;
    whisper_state* state = nullptr;
    bool ready = false;
    bool retire = false;
    bool exited = false;
    std::string initError;
  };

  void run(Worker* worker);
  void runTask(Worker* worker, const Task& task);
  void forget(int64_t jobId);
  std::unique_ptr<ChunkResult> transcribeChunk(Worker* worker, TranscribeJob& job, ChunkSpec& chunk, Failure& failure);

  whisper_context* ctx_;
  bool hugePages_;
  std::mutex resizeMutex_;  // serialises resize() and shutdown()
  std::mutex mutex_;        // guards everything below
  std::condition_variable workAvailable_;
  std::condition_variable workerChanged_;
  std::deque<Task> queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unordered_map<int64_t, std::weak_ptr<TranscribeJob>> jobs_;
  bool stopping_ = false;
  int nextWorkerId_ = 0;
  int64_t stateBytes_ = 0;
};

}  // namespace wf
