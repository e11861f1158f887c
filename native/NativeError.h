// Coded errors: the one way native code reports failure to JavaScript.
// Worker threads never touch N-API, so they carry a plain Failure; the main thread turns it into
// a JS Error whose `code` the TypeScript layer maps onto its typed error classes.
#pragma once
#include <napi.h>
#include <string>

namespace wf {

struct Failure {
  std::string code;     // stable SCREAMING_SNAKE code, e.g. ENCODE_FAILED
  std::string message;  // a sentence naming the file, chunk or option
  int chunkIndex = -1;  // which chunk failed, when one did
};

inline Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

inline Napi::Error makeError(Napi::Env env, const Failure& failure) {
  Napi::Error error = makeError(env, failure.code, failure.message);
  if (failure.chunkIndex >= 0) error.Set("chunkIndex", Napi::Number::New(env, failure.chunkIndex));
  return error;
}

// What a C++ exception escaping whisper.cpp becomes: a coded failure instead of std::terminate.
inline Failure failureFromException(const std::string& code, const std::string& what, const char* detail) {
  return Failure{code, what + " (whisper.cpp threw: " + (detail != nullptr ? detail : "unknown exception") + ")."};
}

// Describes a JS value for messages in the house shape:
// "Expected <what> for <name> but received <value> of type <type>".
std::string describeValue(const Napi::Value& value);

[[noreturn]] inline void throwInvalid(Napi::Env env, const std::string& what, const std::string& name,
                                      const Napi::Value& value) {
  throw makeError(env, "INVALID_ARGUMENT",
                  "Expected " + what + " for " + name + " but received " + describeValue(value));
}

}  // namespace wf
