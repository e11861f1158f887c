// Module entry: the one native export surface, described for TypeScript in src/bindings/addonTypes.ts.
#include <napi.h>

#include "NativeLog.h"
#include "WhisperModel.h"
#include "ggml-backend.h"
#include "whisper.h"

namespace {

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  wf::installLogRouter();
  exports.Set("WhisperModel", wf::WhisperModel::Define(env));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(whisper_fleet, Init)
