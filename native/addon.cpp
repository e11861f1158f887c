// Module entry: the one native export surface, described for TypeScript in src/bindings/addonTypes.ts.
#include <napi.h>

#include <algorithm>
#include <cmath>

#include "NativeError.h"
#include "NativeLog.h"
#include "SpeedUp.h"
#include "WhisperModel.h"
#include "ggml-backend.h"
#include "whisper.h"

namespace {

// What TypeScript may rely on (src/bindings/loadAddon.ts ADDON_INTERFACE refuses any other): bumped
// whenever it starts to need what older builds lack, so a stale build fails to load with a reason
// instead of ignoring a field. 2: chunks carry `speed`, played by their worker (SpeedUp.h). 3:
// `stopAt(jobId, ms)` ends a running chunk early, its result saying where (`stoppedAtMs`).
constexpr int kInterfaceVersion = 3;

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("whisperVersion", whisper_version());
  o.Set("features", whisper_print_system_info());
  Napi::Array devices = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    size_t free = 0, total = 0;
    ggml_backend_dev_memory(dev, &free, &total);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    switch (ggml_backend_dev_type(dev)) {
      case GGML_BACKEND_DEVICE_TYPE_CPU: d.Set("type", "cpu"); break;
      case GGML_BACKEND_DEVICE_TYPE_GPU: d.Set("type", "gpu"); break;
      case GGML_BACKEND_DEVICE_TYPE_IGPU: d.Set("type", "igpu"); break;
      default: d.Set("type", "accel"); break;
    }
    d.Set("memoryFree", static_cast<double>(free));
    d.Set("memoryTotal", static_cast<double>(total));
    devices.Set(devices.Length(), d);
  }
  o.Set("devices", devices);
  return o;
}

// The resampler a worker plays a sped-up chunk through (SpeedUp.h), here on the calling thread:
// what its fidelity is tested through. A job never needs it from JavaScript (chunks carry `speed`).
Napi::Value SpeedUpSamples(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    wf::throwInvalid(env, "a Float32Array of 16 kHz mono samples", "samples", info[0]);
  double speed = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(speed) || speed < 1 || speed > wf::kMaxSpeedUp)
    wf::throwInvalid(env, "a number between 1 and " + std::to_string(static_cast<int>(wf::kMaxSpeedUp)), "speed", info[1]);
  Napi::Float32Array in = info[0].As<Napi::Float32Array>();
  std::vector<float> out = wf::speedUp(in.Data(), in.ElementLength(), speed);
  Napi::Float32Array result = Napi::Float32Array::New(env, out.size());
  std::copy(out.begin(), out.end(), result.Data());
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  wf::installLogRouter();
  exports.Set("WhisperModel", wf::WhisperModel::Define(env));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("speedUp", Napi::Function::New(env, SpeedUpSamples, "speedUp"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  exports.Set("interfaceVersion", Napi::Number::New(env, kInterfaceVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(whisper_fleet, Init)
