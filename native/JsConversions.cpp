// JavaScript ↔ C++ at the addon's boundary: chunks and decode options in (every field checked,
// coded INVALID_ARGUMENT errors in the house shape), chunk results and job events out (on the
// main thread, through the job's thread-safe function). Nothing else in native/ touches N-API values.
#include "TranscribeJob.h"

#include <cmath>
#include <sstream>

#include "SpeedUp.h"
#include "whisper.h"

namespace wf {

// Longest single chunk accepted: far above any sane plan (the planner cuts 5-10 minute chunks),
// low enough that mel buffers stay bounded.
static constexpr int64_t kMaxChunkSamples = int64_t(16000) * 60 * 60 * 3;

namespace {

Napi::Value field(const Napi::Object& object, const char* key) { return object.Get(key); }

bool isSet(const Napi::Value& v) { return !v.IsUndefined() && !v.IsNull(); }

std::string optString(Napi::Env env, const Napi::Object& o, const char* key, const std::string& name,
                      const std::string& fallback) {
  Napi::Value v = field(o, key);
  if (!isSet(v)) return fallback;
  if (!v.IsString()) throwInvalid(env, "a string", name + "." + key, v);
  return v.As<Napi::String>().Utf8Value();
}

bool optBool(Napi::Env env, const Napi::Object& o, const char* key, const std::string& name, bool fallback) {
  Napi::Value v = field(o, key);
  if (!isSet(v)) return fallback;
  if (!v.IsBoolean()) throwInvalid(env, "a boolean", name + "." + key, v);
  return v.As<Napi::Boolean>().Value();
}

// Chunk fields: type and buffer-safety bounds (an allocation or a file read depends on them).
double optNumber(Napi::Env env, const Napi::Object& o, const char* key, const std::string& name, double fallback,
                 double min, double max, bool integer) {
  Napi::Value v = field(o, key);
  if (!isSet(v)) return fallback;
  std::ostringstream what;
  what << (integer ? "an integer" : "a number") << " between " << min << " and " << max;
  if (!v.IsNumber()) throwInvalid(env, what.str(), name + "." + key, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < min || d > max || (integer && std::floor(d) != d))
    throwInvalid(env, what.str(), name + "." + key, v);
  return d;
}

// Decode options: type guards only. Their ranges are policy, checked once in TypeScript
// (src/bindings/checkOptions.ts) before anything reaches the addon.
double optOption(Napi::Env env, const Napi::Object& o, const char* key, double fallback, bool integer) {
  Napi::Value v = field(o, key);
  if (!isSet(v)) return fallback;
  const char* what = integer ? "an integer" : "a finite number";
  if (!v.IsNumber()) throwInvalid(env, what, std::string("options.") + key, v);
  double d = v.As<Napi::Number>().DoubleValue();
  bool fitsInt = std::fabs(d) <= 2147483647.0;  // the C++ fields are ints: a type bound, not a policy one
  if (!std::isfinite(d) || (integer && (std::floor(d) != d || !fitsInt))) throwInvalid(env, what, std::string("options.") + key, v);
  return d;
}

}  // namespace

std::vector<ChunkSpec> chunksFromJs(Napi::Env env, const Napi::Value& value) {
  if (!value.IsArray()) throwInvalid(env, "an array of chunks", "chunks", value);
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() == 0) throwInvalid(env, "a non-empty array of chunks", "chunks", value);
  std::vector<ChunkSpec> chunks;
  chunks.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    std::string name = "chunks[" + std::to_string(i) + "]";
    Napi::Value item = array.Get(i);
    if (!item.IsObject() || item.IsArray()) throwInvalid(env, "a chunk object", name, item);
    Napi::Object o = item.As<Napi::Object>();
    ChunkSpec chunk;
    chunk.index = static_cast<int>(optNumber(env, o, "index", name, i, 0, 1e9, true));
    chunk.offsetMs = optNumber(env, o, "offsetMs", name, 0, 0, 1e12, false);
    chunk.speed = optNumber(env, o, "speed", name, 1, 1, kMaxSpeedUp, false);
    Napi::Value pcm = field(o, "pcm");
    if (isSet(pcm)) {
      if (!pcm.IsTypedArray() || pcm.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throwInvalid(env, "a Float32Array of 16 kHz mono samples", name + ".pcm", pcm);
      Napi::Float32Array samples = pcm.As<Napi::Float32Array>();
      if (samples.ElementLength() == 0)
        throw makeError(env, "INVALID_ARGUMENT", "Expected audio samples in " + name + ".pcm but it is empty");
      if (static_cast<int64_t>(samples.ElementLength()) > kMaxChunkSamples)
        throw makeError(env, "INVALID_ARGUMENT", name + ".pcm holds " + std::to_string(samples.ElementLength()) +
                                                     " samples, more than the 3-hour chunk limit; plan shorter chunks");
      chunk.pcm.assign(samples.Data(), samples.Data() + samples.ElementLength());
      chunk.sampleCount = static_cast<int64_t>(samples.ElementLength());
    } else {
      Napi::Value path = field(o, "path");
      if (!path.IsString()) throwInvalid(env, "a Float32Array `pcm` or a string `path`", name, path);
      chunk.path = path.As<Napi::String>().Utf8Value();
      chunk.sampleOffset = static_cast<int64_t>(optNumber(env, o, "sampleOffset", name, 0, 0, 9e15, true));
      Napi::Value count = field(o, "sampleCount");
      if (!isSet(count)) throwInvalid(env, "a sample count", name + ".sampleCount", count);
      chunk.sampleCount = static_cast<int64_t>(optNumber(env, o, "sampleCount", name, 0, 1, 9e15, true));
      if (chunk.sampleCount > kMaxChunkSamples)
        throw makeError(env, "INVALID_ARGUMENT", name + ".sampleCount is " + std::to_string(chunk.sampleCount) +
                                                     " samples, more than the 3-hour chunk limit; plan shorter chunks");
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

DecodeOptions decodeOptionsFromJs(Napi::Env env, const Napi::Value& value) {
  DecodeOptions d;
  if (!isSet(value)) return d;
  if (!value.IsObject() || value.IsArray()) throwInvalid(env, "an options object", "options", value);
  Napi::Object o = value.As<Napi::Object>();
  const std::string n = "options";
  d.threads = static_cast<int>(optOption(env, o, "threads", d.threads, true));
  d.language = optString(env, o, "language", n, d.language);
  if (d.language.empty()) d.language = "auto";
  if (d.language != "auto" && whisper_lang_id(d.language.c_str()) < 0)
    throwInvalid(env, "a Whisper language code such as \"en\" or \"ko\", or \"auto\"", "options.language",
                 field(o, "language"));
  d.translate = optBool(env, o, "translate", n, d.translate);
  d.initialPrompt = optString(env, o, "initialPrompt", n, d.initialPrompt);
  d.carryInitialPrompt = optBool(env, o, "carryInitialPrompt", n, d.carryInitialPrompt);
  d.noContext = optBool(env, o, "noContext", n, d.noContext);
  d.maxTextContext = static_cast<int>(optOption(env, o, "maxTextContext", d.maxTextContext, true));
  d.beamSize = static_cast<int>(optOption(env, o, "beamSize", d.beamSize, true));
  d.bestOf = static_cast<int>(optOption(env, o, "bestOf", d.bestOf, true));
  d.temperature = static_cast<float>(optOption(env, o, "temperature", d.temperature, false));
  d.temperatureInc = static_cast<float>(optOption(env, o, "temperatureIncrement", d.temperatureInc, false));
  d.entropyThreshold = static_cast<float>(optOption(env, o, "entropyThreshold", d.entropyThreshold, false));
  d.logprobThreshold = static_cast<float>(optOption(env, o, "logprobThreshold", d.logprobThreshold, false));
  d.noSpeechThreshold = static_cast<float>(optOption(env, o, "noSpeechThreshold", d.noSpeechThreshold, false));
  d.tokenTimestamps = optBool(env, o, "tokenTimestamps", n, d.tokenTimestamps);
  d.tokens = optBool(env, o, "tokens", n, d.tokens);
  d.maxSegmentLength = static_cast<int>(optOption(env, o, "maxSegmentLength", d.maxSegmentLength, true));
  d.splitOnWord = optBool(env, o, "splitOnWord", n, d.splitOnWord);
  d.maxTokensPerSegment = static_cast<int>(optOption(env, o, "maxTokensPerSegment", 0, true));
  d.suppressNonSpeech = optBool(env, o, "suppressNonSpeech", n, d.suppressNonSpeech);
  d.suppressBlank = optBool(env, o, "suppressBlank", n, d.suppressBlank);
  d.vadModelPath = optString(env, o, "vadModelPath", n, d.vadModelPath);
  d.vadThreshold = static_cast<float>(optOption(env, o, "vadThreshold", d.vadThreshold, false));
  d.vadMinSpeechMs = static_cast<int>(optOption(env, o, "vadMinSpeechMs", d.vadMinSpeechMs, true));
  d.vadMinSilenceMs = static_cast<int>(optOption(env, o, "vadMinSilenceMs", d.vadMinSilenceMs, true));
  d.vadSpeechPadMs = static_cast<int>(optOption(env, o, "vadSpeechPadMs", d.vadSpeechPadMs, true));
  return d;
}

namespace {

// Segments with their tokens and words where the result carries them (a chunk's result), or text and
// times only (the segments streamed while a chunk runs).
Napi::Array segmentsToJs(Napi::Env env, const std::vector<SegmentResult>& segments) {
  Napi::Array out = Napi::Array::New(env, segments.size());
  for (size_t i = 0; i < segments.size(); i++) {
    const SegmentResult& s = segments[i];
    Napi::Object so = Napi::Object::New(env);
    so.Set("t0Ms", s.t0Ms);
    so.Set("t1Ms", s.t1Ms);
    so.Set("text", s.text);
    so.Set("noSpeechProb", s.noSpeechProb);
    so.Set("speakerTurnNext", s.speakerTurnNext);
    if (!s.tokens.empty()) {
      Napi::Array tokens = Napi::Array::New(env, s.tokens.size());
      for (size_t j = 0; j < s.tokens.size(); j++) {
        const TokenResult& t = s.tokens[j];
        Napi::Object to = Napi::Object::New(env);
        to.Set("id", t.id);
        to.Set("text", t.text);
        to.Set("p", t.p);
        to.Set("t0Ms", t.t0Ms);
        to.Set("t1Ms", t.t1Ms);
        to.Set("special", t.special);
        tokens.Set(static_cast<uint32_t>(j), to);
      }
      so.Set("tokens", tokens);
      Napi::Array words = Napi::Array::New(env, s.words.size());
      for (size_t j = 0; j < s.words.size(); j++) {
        const WordResult& w = s.words[j];
        Napi::Object wo = Napi::Object::New(env);
        wo.Set("text", w.text);
        wo.Set("t0Ms", w.t0Ms);
        wo.Set("t1Ms", w.t1Ms);
        wo.Set("p", w.p);
        words.Set(static_cast<uint32_t>(j), wo);
      }
      so.Set("words", words);
    }
    out.Set(static_cast<uint32_t>(i), so);
  }
  return out;
}

Napi::Object chunkResultToJs(Napi::Env env, const ChunkResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", r.index);
  o.Set("workerId", r.workerId);
  o.Set("language", r.language);
  o.Set("audioMs", r.audioMs);
  o.Set("temperatureRetries", r.temperatureRetries);
  o.Set("windows", r.windows);
  if (r.stoppedAtMs >= 0) o.Set("stoppedAtMs", r.stoppedAtMs);
  Napi::Object timings = Napi::Object::New(env);
  timings.Set("startedAtMs", r.startedAtMs);
  timings.Set("wallMs", r.wallMs);
  timings.Set("melMs", r.melMs);
  timings.Set("encodeMs", r.encodeMs);
  timings.Set("decoderMs", r.decoderMs);
  o.Set("timings", timings);
  o.Set("segments", segmentsToJs(env, r.segments));
  return o;
}

}  // namespace

void callJobJs(Napi::Env env, Napi::Function onEvent, JobJsContext* context, JobEvent* raw) {
  std::unique_ptr<JobEvent> event(raw);
  if (env == nullptr || event == nullptr || context == nullptr) return;  // environment tearing down
  Napi::HandleScope scope(env);
  Napi::Object payload = Napi::Object::New(env);
  Napi::Value resultJs;
  switch (event->type) {
    case JobEventType::ChunkStart: payload.Set("type", "chunkStart"); break;
    case JobEventType::Progress: payload.Set("type", "progress"); break;
    case JobEventType::Segments:
      payload.Set("type", "segments");
      payload.Set("segments", segmentsToJs(env, event->result->segments));
      break;
    case JobEventType::ChunkDone: {
      payload.Set("type", "chunkDone");
      resultJs = chunkResultToJs(env, *event->result);
      payload.Set("result", resultJs);
      Napi::Array results = context->results.Value().As<Napi::Array>();
      results.Set(results.Length(), resultJs);
      break;
    }
    case JobEventType::Settle: {
      if (event->failure) {
        context->deferred.Reject(makeError(env, *event->failure).Value());
      } else {
        context->deferred.Resolve(context->results.Value());
      }
      return;
    }
  }
  payload.Set("chunkIndex", event->chunkIndex);
  payload.Set("workerId", event->workerId);
  payload.Set("percent", event->percent);
  if (onEvent.IsEmpty() || !onEvent.IsFunction()) return;
  try {
    onEvent.Call({payload});
  } catch (const Napi::Error&) {
    // A throwing listener must not break the job; the TypeScript layer guards its own callbacks.
  }
}

}  // namespace wf
