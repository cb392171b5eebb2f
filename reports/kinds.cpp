// fsan::to_string(FindingKind) for the host tool (see kinds.hpp), which
// cannot link libfsan; the names themselves are fsan/detail/kind_names.hpp.
#include <fsan/detail/kind_names.hpp>
#include <fsan/finding.hpp>

namespace fsan {

const char* to_string(FindingKind k) { return detail::kind_name(k); }

}  // namespace fsan
