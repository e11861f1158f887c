#include "TranscribeJob.h"

#include <utility>

namespace wf {

TranscribeJob::TranscribeJob(int64_t id_, DecodeOptions options_, std::vector<ChunkSpec> chunks_, JobTsfn tsfn)
    : id(id_), options(std::move(options_)), chunks(std::move(chunks_)), pending_(chunks.size()), tsfn_(tsfn) {}

void TranscribeJob::requestAbort(int code) {
  int expected = kNotAborted;
  abortCode.compare_exchange_strong(expected, code);
}

void TranscribeJob::emitStart(int chunkIndex, int workerId) {
  auto* event = new JobEvent{JobEventType::ChunkStart, chunkIndex, workerId};
  if (tsfn_.NonBlockingCall(event) != napi_ok) delete event;
}

void TranscribeJob::emitProgress(int chunkIndex, int workerId, int percent) {
  auto* event = new JobEvent{JobEventType::Progress, chunkIndex, workerId, percent};
  if (tsfn_.NonBlockingCall(event) != napi_ok) delete event;
}

void TranscribeJob::emitSegments(int chunkIndex, int workerId, std::vector<SegmentResult> segments) {
  auto* event = new JobEvent{JobEventType::Segments, chunkIndex, workerId};
  event->result = std::make_unique<ChunkResult>();
  event->result->index = chunkIndex;
  event->result->workerId = workerId;
  event->result->segments = std::move(segments);
  if (tsfn_.NonBlockingCall(event) != napi_ok) delete event;
}

bool TranscribeJob::finishOk(std::unique_ptr<ChunkResult> result) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto* event = new JobEvent{JobEventType::ChunkDone, result->index, result->workerId, 100};
  event->result = std::move(result);
  // Queued before the settle event on the same function, so chunk-done always precedes settlement.
  if (tsfn_.NonBlockingCall(event) != napi_ok) delete event;
  return finishLocked(lock);
}

bool TranscribeJob::finishFailed(Failure failure) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!failure_) failure_ = std::make_unique<Failure>(std::move(failure));
  // One failed chunk fails the job: stop the others rather than spend minutes on a lost cause.
  requestAbort(kFailed);
  return finishLocked(lock);
}

bool TranscribeJob::finishSkipped() {
  std::unique_lock<std::mutex> lock(mutex_);
  return finishLocked(lock);
}

bool TranscribeJob::settleIfAborted() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!aborted() || settled_) return false;
  settleLocked();
  return true;
}

bool TranscribeJob::finishLocked(std::unique_lock<std::mutex>&) {
  if (pending_ > 0) pending_--;
  // An aborted job settles at once: a running chunk may still be inside whisper.cpp's mel
  // computation, which has no abort hook, and the caller should not wait for it.
  if (!settled_ && (pending_ == 0 || aborted())) settleLocked();
  if (pending_ > 0) return false;
  tsfn_.Release();  // the last task holds the last use of the thread-safe function
  return true;
}

void TranscribeJob::settleLocked() {
  settled_ = true;
  auto* event = new JobEvent{JobEventType::Settle};
  int code = abortCode.load();
  if (code == kAborted) {
    event->failure = std::make_unique<Failure>(Failure{"ABORTED", "Transcription was cancelled."});
  } else if (code == kDisposed) {
    event->failure = std::make_unique<Failure>(
        Failure{"DISPOSED", "The model was disposed while this transcription was running."});
  } else if (failure_) {
    event->failure = std::move(failure_);
  }
  if (tsfn_.NonBlockingCall(event) != napi_ok) delete event;
}

}  // namespace wf
