// Sanitizer annotations: tell the race detector about synchronization it
// cannot see (a hand-rolled lock, a lock-free protocol of plain loads) or
// about a race that is intended. No-ops in a plain (uninstrumented) build.
// Example:
//   data = 42; fsan::annotate_happens_before(&flag); flag_store(...);
//   ... flag_load(...); fsan::annotate_happens_after(&flag); use(data);
#pragma once

#include <cstddef>

namespace fsan {

// annotate_happens_before: everything the caller did so far happens before
// any later annotate_happens_after(addr) by anyone.
void annotate_happens_before(const void* addr);
void annotate_happens_after(const void* addr);
// annotate_benign_race: accesses to [addr, addr+size) are never reported.
void annotate_benign_race(const void* addr, std::size_t size, const char* why);

}  // namespace fsan
