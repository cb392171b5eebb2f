// Fiber stack overflow detection (guard page fault -> panic finding).
#pragma once

namespace fsan::detail {

// install_overflow_handler: once per process, chains to earlier handlers.
void install_overflow_handler();
// ensure_alt_stack: once per worker thread.
void ensure_alt_stack();
// release_alt_stack: when a worker thread ends (threads are made per run).
void release_alt_stack();

}  // namespace fsan::detail
