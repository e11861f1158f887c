// The JS object for one loaded whisper.cpp model and the worker pool that shares it.
// JS: new WhisperModel(path, { useGpu, flashAttn, gpuDevice }) → load() → resize(n) →
//     transcribe(jobId, chunks, options, onEvent) / abort(jobId) → dispose().
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "WorkerPool.h"
#include "whisper.h"

namespace wf {

// The native resources, shared by the JS object and the async workers that use them.
struct ModelCore {
  std::string path;
  whisper_context_params params{};
  std::mutex lifecycle;  // held while loading and while freeing
  whisper_context* ctx = nullptr;
  // Shared with a resize in flight, which may outlive release(): it then finds the pool stopped.
  std::shared_ptr<WorkerPool> pool;
  int64_t weightsBytes = 0;
  bool hugePages = true;  // weights and compute buffers on huge pages where offered (HugePages.h)
  std::atomic<bool> disposed{false};
  std::atomic<bool> ready{false};  // set (release) once ctx and pool exist
  bool cleanupHookRan = false;     // main thread only

  void release();  // stops the pool, frees states then the model; idempotent
  ~ModelCore() { release(); }
};

class WhisperModel : public Napi::ObjectWrap<WhisperModel> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit WhisperModel(const Napi::CallbackInfo& info);
  ~WhisperModel() override;

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Facts(const Napi::CallbackInfo& info);
  Napi::Value Resize(const Napi::CallbackInfo& info);
  Napi::Value Transcribe(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value StopAt(const Napi::CallbackInfo& info);
  Napi::Value Memory(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  void requireLoaded(Napi::Env env, const char* method);
  static void cleanupHook(void* core);

  std::shared_ptr<ModelCore> core_;
  bool loadStarted_ = false;
  Napi::ObjectReference disposePromise_;
  Napi::Env env_;
};

}  // namespace wf
