#include "HugePages.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace wf {

#if defined(__linux__) && defined(MADV_HUGEPAGE)

namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

// The 2 MiB-aligned interior of [start, end), advised; pages already touched keep their size.
void advise(uintptr_t start, uintptr_t end) {
  uintptr_t from = (start + kHugePage - 1) & ~(kHugePage - 1);
  uintptr_t to = end & ~(kHugePage - 1);
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);  // advice: a refusal changes nothing
}

}  // namespace

std::vector<MappedRange> anonymousMappings() {
  std::vector<MappedRange> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    uintptr_t from = 0, to = 0;
    char dash = 0;
    std::string perms, offset, device;
    unsigned long inode = 0;
    in >> std::hex >> from >> dash >> to >> perms >> offset >> device >> std::dec >> inode;
    if (in.fail()) continue;
    std::string name;
    in >> name;  // none for an anonymous mapping
    // Private, writable, not a file, not the stack or another named region.
    if (inode == 0 && name.empty() && perms.size() >= 4 && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p') out.push_back({from, to});
  }
  return out;
}

MappedRange adviseHugePagesAround(const void* address) {
  auto at = reinterpret_cast<uintptr_t>(address);
  for (const MappedRange& m : anonymousMappings()) {
    if (at < m.start || at >= m.end) continue;
    if (m.end - m.start < kHugePage) return {0, 0};
    advise(m.start, m.end);
    return m;
  }
  return {0, 0};
}

void adviseHugePagesSince(const std::vector<MappedRange>& before) {
  for (const MappedRange& now : anonymousMappings()) {
    // What of `now` no earlier mapping covered (a new buffer may also have merged with a neighbour).
    uintptr_t cursor = now.start;
    for (const MappedRange& old : before) {  // sorted by address, as /proc/self/maps lists them
      if (old.end <= cursor || old.start >= now.end) continue;
      if (old.start > cursor && old.start - cursor >= kHugePage) advise(cursor, old.start);
      cursor = std::max(cursor, old.end);
    }
    if (now.end > cursor && now.end - cursor >= kHugePage) advise(cursor, now.end);
  }
}

#else

std::vector<MappedRange> anonymousMappings() { return {}; }
MappedRange adviseHugePagesAround(const void*) { return {0, 0}; }
void adviseHugePagesSince(const std::vector<MappedRange>&) {}

#endif

}  // namespace wf
