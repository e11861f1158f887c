// Transparent huge pages (2 MiB) for whisper.cpp's big buffers, on Linux. whisper.cpp allocates
// the model's weights and each state's compute buffers with one aligned malloc per buffer (a fresh
// anonymous mapping at these sizes) and the kernel backs them with 4 KiB pages, unless asked: a
// decoder step then walks ~13,000 pages of weights for base (the 53 MB token embedding among them)
// and every page is a fault when first written. Asking costs one madvise per buffer before its
// first touch; where THP is "never" (or on macOS, Windows) the advice changes nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wf {

struct MappedRange {
  uintptr_t start;
  uintptr_t end;
};

// The process's anonymous mappings now (empty where there is no /proc/self/maps).
std::vector<MappedRange> anonymousMappings();

// Asks for huge pages over the anonymous mapping holding `address`, if it spans 2 MiB or more.
// Returns that mapping (so a caller can skip addresses inside it), or {0, 0}.
MappedRange adviseHugePagesAround(const void* address);

// Asks for huge pages over every anonymous mapping, or part of one, that `before` did not hold:
// the buffers an allocation made since `before` was taken.
void adviseHugePagesSince(const std::vector<MappedRange>& before);

}  // namespace wf
