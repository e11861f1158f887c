// Routes whisper.cpp / ggml logging: silent unless WHISPER_FLEET_NATIVE_LOG is set, with the text of
// the current thread's last error kept for messages and a thread-local capture used to read the
// memory figures whisper.cpp prints while it allocates (it has no API that returns them).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wf {

void installLogRouter();

// While alive, everything whisper.cpp logs on this thread is appended to `text`.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text;

 private:
  LogCapture* previous_;
};

// The last error line whisper.cpp logged on this thread ("" when none since the last reset).
std::string lastNativeError();
void resetLastNativeError();

// Sums the "<label> = 12.34 MB" figures of the given labels found in captured log text, in bytes.
int64_t sumLoggedMegabytes(const std::string& text, const std::vector<std::string>& labels);

}  // namespace wf
