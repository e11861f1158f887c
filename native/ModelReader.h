// Loads a whisper.cpp model from a file. On Linux it reads through whisper.cpp's loader interface,
// so each weight buffer can be asked for huge pages (HugePages.h) before the tensors are read into
// it; elsewhere it is whisper.cpp's own file reader.
#pragma once
#include <string>

#include "whisper.h"

namespace wf {

// whisper_init_from_file_with_params_no_state, with the weights on huge pages where the system
// offers them and `hugePages` asks. Returns nullptr where whisper.cpp does (the reason is in its log).
whisper_context* initModelFromFile(const std::string& path, whisper_context_params params, bool hugePages);

}  // namespace wf
