// Public annotations (fsan/annotations.hpp) forwarding to the race detector.
#include <fsan/annotations.hpp>

#include "race/detector.hpp"

namespace fsan {

using detail::race::Detector;

void annotate_happens_before(const void* addr) {
  if (Detector::on()) Detector::annotate_happens_before(addr);
}
void annotate_happens_after(const void* addr) {
  if (Detector::on()) Detector::annotate_happens_after(addr);
}
void annotate_benign_race(const void* addr, std::size_t size, const char* /*why*/) {
  Detector::annotate_benign_race(addr, size);
}

}  // namespace fsan
