#include "WhisperInit.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "HugePages.h"

namespace wf {

namespace {

struct Reader {
  FILE* file = nullptr;
  // The last buffer advised: one /proc/self/maps walk per weight buffer, not per tensor.
  MappedRange last{0, 0};

  // Before the first bytes land in a buffer, ask for huge pages over all of it: pages are only
  // sized at first touch, so this comes before whisper.cpp writes any tensor there. Only reads of
  // 1 MiB or more (tensors: every model has such, the token embedding first) look: the header, mel
  // filters and vocabulary go to small heap allocations that are none of this.
  void advise(void* output, size_t size) {
    auto at = reinterpret_cast<uintptr_t>(output);
    if (size < (size_t{1} << 20) || (at >= last.start && at < last.end)) return;
    last = adviseHugePagesAround(output);
  }
};

}  // namespace

whisper_context* initModelFromFile(const std::string& path, whisper_context_params params, bool hugePages) {
#if defined(__linux__)
  if (!hugePages) return whisper_init_from_file_with_params_no_state(path.c_str(), params);
  Reader reader;
  reader.file = std::fopen(path.c_str(), "rb");
  if (reader.file == nullptr) return whisper_init_from_file_with_params_no_state(path.c_str(), params);  // its own message
  whisper_model_loader loader = {};
  loader.context = &reader;
  loader.read = [](void* ctx, void* output, size_t size) {
    auto* r = static_cast<Reader*>(ctx);
    r->advise(output, size);
    return std::fread(output, 1, size, r->file);
  };
  loader.eof = [](void* ctx) { return std::feof(static_cast<Reader*>(ctx)->file) != 0; };
  loader.close = [](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    if (r->file != nullptr) std::fclose(r->file);
    r->file = nullptr;
  };
  return whisper_init_with_params_no_state(&loader, params);
#else
  // Elsewhere whisper.cpp's own reader (it also records the path, which Core ML looks beside).
  (void)hugePages;
  return whisper_init_from_file_with_params_no_state(path.c_str(), params);
#endif
}

whisper_state* initState(whisper_context* ctx, bool hugePages) {
  if (!hugePages) return whisper_init_state(ctx);
  std::vector<MappedRange> before = anonymousMappings();
  whisper_state* state = whisper_init_state(ctx);
  if (state != nullptr) adviseHugePagesSince(before);
  return state;
}

}  // namespace wf
