// whisper.cpp's model and states, created with their big buffers on huge pages where the system
// offers them (HugePages.h). The model is read on Linux through whisper.cpp's loader interface, so
// each weight buffer can be advised before the tensors are read into it (elsewhere: whisper.cpp's
// own file reader); a state's compute buffers are advised before its first window.
#pragma once
#include <string>

#include "whisper.h"

namespace wf {

// whisper_init_from_file_with_params_no_state, with the weights on huge pages where the system
// offers them and `hugePages` asks. Returns nullptr where whisper.cpp does (the reason is in its log).
whisper_context* initModelFromFile(const std::string& path, whisper_context_params params, bool hugePages);

// whisper_init_state, with the compute buffers it allocates advised onto huge pages (its KV caches
// are cleared inside it, so theirs keep the size they got). Returns nullptr where whisper.cpp does.
whisper_state* initState(whisper_context* ctx, bool hugePages);

}  // namespace wf
