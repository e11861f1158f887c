#include "NativeLog.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "whisper.h"

namespace wf {
namespace {

thread_local LogCapture* tCapture = nullptr;
thread_local std::string tLastError;
thread_local ggml_log_level tLastLevel = GGML_LOG_LEVEL_NONE;
bool gEcho = false;

void route(ggml_log_level level, const char* text, void*) {
  if (text == nullptr) return;
  // CONT continues the previous message at the previous level.
  ggml_log_level effective = level == GGML_LOG_LEVEL_CONT ? tLastLevel : level;
  tLastLevel = effective;
  if (tCapture != nullptr) tCapture->text += text;
  if (effective == GGML_LOG_LEVEL_ERROR) {
    if (level != GGML_LOG_LEVEL_CONT) tLastError.clear();
    tLastError += text;
    while (!tLastError.empty() && (tLastError.back() == '\n' || tLastError.back() == ' ')) tLastError.pop_back();
  }
  if (gEcho) fputs(text, stderr);
}

}  // namespace

void installLogRouter() {
  const char* echo = std::getenv("WHISPER_FLEET_NATIVE_LOG");
  gEcho = echo != nullptr && echo[0] != '\0' && std::strcmp(echo, "0") != 0;
  whisper_log_set(route, nullptr);
}

LogCapture::LogCapture() : previous_(tCapture) { tCapture = this; }
LogCapture::~LogCapture() { tCapture = previous_; }

std::string lastNativeError() { return tLastError; }
void resetLastNativeError() { tLastError.clear(); }

int64_t sumLoggedMegabytes(const std::string& text, const std::vector<std::string>& labels) {
  double total = 0;
  for (const auto& label : labels) {
    size_t at = 0;
    while ((at = text.find(label, at)) != std::string::npos) {
      at += label.size();
      size_t eq = text.find('=', at);
      size_t eol = text.find('\n', at);
      if (eq == std::string::npos || (eol != std::string::npos && eq > eol)) continue;
      total += std::strtod(text.c_str() + eq + 1, nullptr);
    }
  }
  return static_cast<int64_t>(total * 1e6);
}

}  // namespace wf
