#include "WhisperModel.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "NativeError.h"
#include "NativeLog.h"
#include "WhisperInit.h"

namespace wf {
namespace {

// Checks what whisper.cpp would otherwise report only as "failed to load": a missing path, a
// directory, an empty file, or a file that is not a ggml whisper model.
std::unique_ptr<Failure> checkModelFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return std::make_unique<Failure>(Failure{"MODEL_NOT_FOUND", "Model file " + path + " does not exist."});
  if (S_ISDIR(st.st_mode))
    return std::make_unique<Failure>(Failure{"MODEL_NOT_FOUND", "Model path " + path + " is a directory, not a model file."});
  if (st.st_size < 64)
    return std::make_unique<Failure>(Failure{"MODEL_INVALID", "Model file " + path + " is empty or truncated (" +
                                                                  std::to_string(st.st_size) + " bytes)."});
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return std::make_unique<Failure>(Failure{"MODEL_NOT_FOUND", "Model file " + path + " cannot be read (permission denied?)."});
  uint32_t magic = 0;
  size_t got = std::fread(&magic, 1, sizeof magic, f);
  std::fclose(f);
  if (got != sizeof magic || magic != 0x67676d6c)  // "ggml"
    return std::make_unique<Failure>(Failure{"MODEL_INVALID", "File " + path +
                                                                  " is not a whisper.cpp ggml model (wrong magic number)."});
  return nullptr;
}

class ModelLoadWorker : public Napi::AsyncWorker {
 public:
  ModelLoadWorker(Napi::Env env, Napi::Object self, std::shared_ptr<ModelCore> core)
      : Napi::AsyncWorker(env, "WhisperFleetModelLoad"), deferred_(Napi::Promise::Deferred::New(env)), core_(std::move(core)) {
    self_ = Napi::Persistent(self);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      load();
    } catch (const std::exception& e) {
      failure_ = std::make_unique<Failure>(failureFromException("MODEL_INVALID", "Loading " + core_->path + " failed; the file is corrupt or not a Whisper model", e.what()));
    } catch (...) {
      failure_ = std::make_unique<Failure>(failureFromException("MODEL_INVALID", "Loading " + core_->path + " failed; the file is corrupt or not a Whisper model", nullptr));
    }
  }
  void load() {
    std::lock_guard<std::mutex> lock(core_->lifecycle);
    if (core_->disposed) {
      failure_ = std::make_unique<Failure>(Failure{"DISPOSED", "The model was disposed before it finished loading."});
      return;
    }
    failure_ = checkModelFile(core_->path);
    if (failure_) return;
    LogCapture capture;
    resetLastNativeError();
    whisper_context* ctx = initModelFromFile(core_->path, core_->params, core_->hugePages);
    if (ctx == nullptr) {
      std::string detail = lastNativeError();
      failure_ = std::make_unique<Failure>(Failure{
          "MODEL_INVALID", "whisper.cpp could not load " + core_->path + (detail.empty() ? "" : " (" + detail + ")") +
                               "; the file is corrupt, truncated or not a Whisper model. Download it again."});
      return;
    }
    core_->ctx = ctx;
    core_->weightsBytes = sumLoggedMegabytes(capture.text, {"model size"});
    core_->pool = std::make_shared<WorkerPool>(ctx, core_->hugePages);
    core_->ready.store(true, std::memory_order_release);
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!failure_ && core_->disposed)
      failure_ = std::make_unique<Failure>(Failure{"DISPOSED", "The model was disposed before it finished loading."});
    if (failure_) {
      deferred_.Reject(makeError(env, *failure_).Value());
    } else {
      try {
        deferred_.Resolve(self_.Value().Get("facts").As<Napi::Function>().Call(self_.Value(), {}));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    }
    self_.Reset();
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(e.Value());
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  std::shared_ptr<ModelCore> core_;
  std::unique_ptr<Failure> failure_;
};

class PoolResizeWorker : public Napi::AsyncWorker {
 public:
  // Constructed on the main thread after requireLoaded: the pool exists and release() has not begun
  // (Dispose marks the model disposed before it queues the release).
  PoolResizeWorker(Napi::Env env, Napi::Object self, std::shared_ptr<ModelCore> core, size_t count)
      : Napi::AsyncWorker(env, "WhisperFleetPoolResize"), deferred_(Napi::Promise::Deferred::New(env)),
        core_(std::move(core)), pool_(core_->pool), count_(count) {
    self_ = Napi::Persistent(self);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      // A dispose may run release() on another libuv thread meanwhile: this worker's own reference
      // keeps the pool alive, and a stopped pool refuses the resize with DISPOSED.
      if (core_->disposed) {
        failure_ = std::make_unique<Failure>(Failure{"DISPOSED", "The model has been disposed."});
        return;
      }
      failure_ = pool_->resize(count_);
      memory_ = pool_->memory();
    } catch (const std::exception& e) {
      failure_ = std::make_unique<Failure>(failureFromException("OUT_OF_MEMORY", "Resizing the worker pool failed", e.what()));
    } catch (...) {
      failure_ = std::make_unique<Failure>(failureFromException("OUT_OF_MEMORY", "Resizing the worker pool failed", nullptr));
    }
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(e.Value());
    self_.Reset();
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (failure_) {
      deferred_.Reject(makeError(env, *failure_).Value());
    } else {
      Napi::Object o = Napi::Object::New(env);
      o.Set("workers", static_cast<double>(memory_.workers));
      o.Set("stateBytes", static_cast<double>(memory_.stateBytes));
      deferred_.Resolve(o);
    }
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  std::shared_ptr<ModelCore> core_;
  std::shared_ptr<WorkerPool> pool_;
  size_t count_;
  PoolMemory memory_;
  std::unique_ptr<Failure> failure_;
};

class ModelDisposeWorker : public Napi::AsyncWorker {
 public:
  ModelDisposeWorker(Napi::Env env, Napi::Object self, std::shared_ptr<ModelCore> core)
      : Napi::AsyncWorker(env, "WhisperFleetModelDispose"), deferred_(Napi::Promise::Deferred::New(env)), core_(std::move(core)) {
    self_ = Napi::Persistent(self);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      core_->release();
    } catch (const std::exception& e) {
      SetError(std::string("Disposing the model failed: ") + e.what());
    } catch (...) {
      SetError("Disposing the model failed.");
    }
  }
  void OnOK() override {
    deferred_.Resolve(Env().Undefined());
    self_.Reset();
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(e.Value());
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  std::shared_ptr<ModelCore> core_;
};

}  // namespace

void ModelCore::release() {
  disposed = true;
  std::lock_guard<std::mutex> lock(lifecycle);
  if (pool) pool->shutdown();  // aborts jobs, joins workers, frees every state
  pool.reset();
  if (ctx != nullptr) whisper_free(ctx);
  ctx = nullptr;
}

Napi::Function WhisperModel::Define(Napi::Env env) {
  return DefineClass(env, "WhisperModel",
                     {InstanceMethod<&WhisperModel::Load>("load"), InstanceMethod<&WhisperModel::Facts>("facts"),
                      InstanceMethod<&WhisperModel::Resize>("resize"),
                      InstanceMethod<&WhisperModel::Transcribe>("transcribe"),
                      InstanceMethod<&WhisperModel::Abort>("abort"),
                      InstanceMethod<&WhisperModel::StopAt>("stopAt"), InstanceMethod<&WhisperModel::Memory>("memory"),
                      InstanceMethod<&WhisperModel::Dispose>("dispose")});
}

WhisperModel::WhisperModel(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<WhisperModel>(info), core_(std::make_shared<ModelCore>()), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throwInvalid(env, "a model file path", "path", info[0]);
  core_->path = info[0].As<Napi::String>().Utf8Value();
  if (core_->path.empty()) throwInvalid(env, "a non-empty model file path", "path", info[0]);
  core_->params = whisper_context_default_params();
  core_->params.use_gpu = true;
  core_->params.flash_attn = true;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) throwInvalid(env, "an options object", "options", info[1]);
    Napi::Object o = info[1].As<Napi::Object>();
    auto readBool = [&](const char* key, bool& out) {
      Napi::Value v = o.Get(key);
      if (v.IsUndefined()) return;
      if (!v.IsBoolean()) throwInvalid(env, "a boolean", std::string("options.") + key, v);
      out = v.As<Napi::Boolean>().Value();
    };
    readBool("useGpu", core_->params.use_gpu);
    readBool("flashAttn", core_->params.flash_attn);
    readBool("hugePages", core_->hugePages);
    Napi::Value device = o.Get("gpuDevice");
    if (!device.IsUndefined()) {
      if (!device.IsNumber() || device.As<Napi::Number>().Int32Value() < 0)
        throwInvalid(env, "a non-negative integer", "options.gpuDevice", device);
      core_->params.gpu_device = device.As<Napi::Number>().Int32Value();
    }
  }
  // Frees native resources if the environment goes away (worker thread exit, process teardown).
  napi_add_env_cleanup_hook(env, cleanupHook, core_.get());
}

WhisperModel::~WhisperModel() {
  if (!core_->cleanupHookRan) napi_remove_env_cleanup_hook(env_, cleanupHook, core_.get());
  // Jobs hold a reference to this object, so finalisation implies nothing is running.
  core_->release();
}

void WhisperModel::cleanupHook(void* data) {
  auto* core = static_cast<ModelCore*>(data);
  core->cleanupHookRan = true;
  core->release();
}

void WhisperModel::requireLoaded(Napi::Env env, const char* method) {
  if (core_->disposed)
    throw makeError(env, "DISPOSED", std::string("Cannot call ") + method + "(): the model " + core_->path +
                                         " has been disposed.");
  if (!core_->ready.load(std::memory_order_acquire))
    throw makeError(env, "MODEL_NOT_LOADED", std::string("Cannot call ") + method + "() before load() has finished for " +
                                                 core_->path + ".");
}

Napi::Value WhisperModel::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_->disposed) throw makeError(env, "DISPOSED", "The model " + core_->path + " has been disposed.");
  if (loadStarted_) throw makeError(env, "INVALID_STATE", "load() was already called for " + core_->path + ".");
  loadStarted_ = true;
  auto* worker = new ModelLoadWorker(env, info.This().As<Napi::Object>(), core_);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value WhisperModel::Facts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireLoaded(env, "facts");
  whisper_context* ctx = core_->ctx;
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", core_->path);
  o.Set("type", whisper_model_type_readable(ctx));
  o.Set("multilingual", whisper_is_multilingual(ctx) != 0);
  o.Set("nMels", whisper_model_n_mels(ctx));
  o.Set("nVocab", whisper_model_n_vocab(ctx));
  o.Set("nAudioLayer", whisper_model_n_audio_layer(ctx));
  o.Set("nTextLayer", whisper_model_n_text_layer(ctx));
  o.Set("nAudioState", whisper_model_n_audio_state(ctx));
  o.Set("ftype", whisper_model_ftype(ctx));
  o.Set("weightsBytes", static_cast<double>(core_->weightsBytes));
  o.Set("useGpu", core_->params.use_gpu);
  return o;
}

Napi::Value WhisperModel::Resize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireLoaded(env, "resize");
  if (info.Length() < 1 || !info[0].IsNumber()) throwInvalid(env, "an integer between 1 and 64", "workers", info[0]);
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 64) || n != static_cast<double>(static_cast<int>(n)))
    throwInvalid(env, "an integer between 1 and 64", "workers", info[0]);
  auto* worker = new PoolResizeWorker(env, info.This().As<Napi::Object>(), core_, static_cast<size_t>(n));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value WhisperModel::Transcribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireLoaded(env, "transcribe");
  if (info.Length() < 1 || !info[0].IsNumber()) throwInvalid(env, "a numeric job id", "jobId", info[0]);
  int64_t jobId = info[0].As<Napi::Number>().Int64Value();
  std::vector<ChunkSpec> chunks = chunksFromJs(env, info[1]);
  DecodeOptions options = decodeOptionsFromJs(env, info[2]);
  Napi::Function onEvent;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    if (!info[3].IsFunction()) throwInvalid(env, "an event listener function", "onEvent", info[3]);
    onEvent = info[3].As<Napi::Function>();
  } else {
    onEvent = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  }
  if (core_->pool->memory().workers == 0)
    throw makeError(env, "NO_WORKERS", "No workers are running for " + core_->path + "; call resize(n) first.");

  auto* context = new JobJsContext(env);
  context->model = Napi::Persistent(info.This().As<Napi::Object>());
  context->results = Napi::Persistent(Napi::Array::New(env).As<Napi::Object>());
  Napi::Promise promise = context->deferred.Promise();
  JobTsfn tsfn = JobTsfn::New(env, onEvent, "WhisperFleetJob", 0, 1, context,
                              [](Napi::Env, void*, JobJsContext* ctx) { delete ctx; });
  auto job = std::make_shared<TranscribeJob>(jobId, std::move(options), std::move(chunks), tsfn);
  core_->pool->submit(job);
  return promise;
}

Napi::Value WhisperModel::Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throwInvalid(env, "a numeric job id", "jobId", info[0]);
  if (core_->ready.load(std::memory_order_acquire) && !core_->disposed) core_->pool->abortJob(info[0].As<Napi::Number>().Int64Value(), kAborted);
  return env.Undefined();
}

Napi::Value WhisperModel::StopAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throwInvalid(env, "a numeric job id", "jobId", info[0]);
  if (info.Length() < 2 || !info[1].IsNumber() || !std::isfinite(info[1].As<Napi::Number>().DoubleValue()) ||
      info[1].As<Napi::Number>().DoubleValue() < 0)
    throwInvalid(env, "a time in ms (a finite number >= 0)", "atMs", info[1]);
  bool live = core_->ready.load(std::memory_order_acquire) && !core_->disposed &&
              core_->pool->stopJobAt(info[0].As<Napi::Number>().Int64Value(), info[1].As<Napi::Number>().DoubleValue());
  return Napi::Boolean::New(env, live);
}

Napi::Value WhisperModel::Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireLoaded(env, "memory");
  PoolMemory m = core_->pool->memory();
  Napi::Object o = Napi::Object::New(env);
  o.Set("weightsBytes", static_cast<double>(core_->weightsBytes));
  o.Set("stateBytes", static_cast<double>(m.stateBytes));
  o.Set("workers", static_cast<double>(m.workers));
  o.Set("totalBytes", static_cast<double>(core_->weightsBytes + m.stateBytes * static_cast<int64_t>(m.workers)));
  return o;
}

Napi::Value WhisperModel::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!disposePromise_.IsEmpty()) return disposePromise_.Value();
  core_->disposed = true;
  auto* worker = new ModelDisposeWorker(env, info.This().As<Napi::Object>(), core_);
  Napi::Promise promise = worker->Promise();
  disposePromise_ = Napi::Persistent(promise.As<Napi::Object>());
  worker->Queue();
  return promise;
}

}  // namespace wf
