#include "NativeError.h"

namespace wf {

std::string describeValue(const Napi::Value& value) {
  std::string type;
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: type = "boolean"; break;
    case napi_number: type = "number"; break;
    case napi_string: type = "string"; break;
    case napi_symbol: return "a symbol";
    case napi_object: type = value.IsArray() ? "array" : (value.IsTypedArray() ? "typed array" : "object"); break;
    case napi_function: return "a function";
    default: type = "unknown"; break;
  }
  std::string shown;
  if (value.IsString()) shown = "\"" + value.As<Napi::String>().Utf8Value() + "\"";
  else if (value.IsNumber() || value.IsBoolean()) shown = value.ToString().Utf8Value();
  else shown = "a value";
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  return shown + " of type " + type;
}

}  // namespace wf
