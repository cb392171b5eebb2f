// CreationSite: where a long-lived runtime object (a Ticker, a context's
// CancelFunc) was made, captured as cheaply as a fiber's creation stack (a
// bounded frame-pointer walk, no symbolization) so the leak tracker can say
// where a leaked one came from. Symbolized only when a finding is built.
// Invariant: pcs[0..n) are return addresses, innermost (the call site of the
// runtime constructor) first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::detail {

inline constexpr int kMaxSiteFrames = 16;

struct CreationSite {
  std::uint64_t fiber = 0;  // the creating fiber; 0 = a thread outside any fiber
  std::uint8_t n = 0;
  std::uintptr_t pcs[kMaxSiteFrames];
};

// capture_creation_site: records the frames above the frame `fp` (pass
// __builtin_frame_address(0) of the public constructor or function, so the
// first frame is the user's call site), at most creation_stack_depth deep.
void capture_creation_site(CreationSite& site, std::uintptr_t fp);

// site_location: the site as a finding's location: `kind` ("ticker",
// "context"), `name` (what was made), the creating fiber and the user
// frames of the stack (symbolized now).
Location site_location(const CreationSite& site, std::string kind, std::string name);

// short_site: "file.cpp:12" of the first frame with a file, or
// "module+0x1f3" without debug info; "" for no frames.
std::string short_site(const std::vector<Frame>& frames);
// long_site: "file.cpp:12:5 in f()" (the form of a finding's summary).
std::string long_site(const std::vector<Frame>& frames);

}  // namespace fsan::detail
