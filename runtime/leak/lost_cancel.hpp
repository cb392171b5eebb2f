// lost_cancel (SEMANTICS.md): the last copy of a CancelFunc destroyed without
// being called while its context was still live — go vet's lostcancel, found
// at run time. The check is on the handle the copies share
// (context/context_node.hpp); this builds and publishes the finding: where
// the context was made (with_cancel/with_timeout/with_deadline call site) and
// where the last copy died.
#pragma once

namespace fsan::detail {

struct CancelHandle;

// report_lost_cancel: called by the last copy of h going away uncalled while
// its context is live. Reports only while a run is in progress (a copy
// destroyed after the run, at process exit, is not the program's bug to
// find here) and when leak detection is on.
void report_lost_cancel(const CancelHandle& h);

}  // namespace fsan::detail
