// Stack overflow: a fiber that runs into its guard page faults; the SIGSEGV
// handler (on a per-worker alternate signal stack, since the fiber's own
// stack is exhausted) reports "stack overflow in fiber N" with its stack,
// ends the run, and abandons the fiber by switching straight to the
// worker's scheduler context, so run() returns the findings exit code
// instead of the process dying. Faults that are not a fiber's guard page go
// to the previous handler (or the default action).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "base/stack_trace.hpp"
#include "report/report.hpp"
#include "sched/context.hpp"
#include "sched/overflow.hpp"
#include "sched/scheduler.hpp"

namespace fsan::detail {
namespace {

struct sigaction g_prev_segv;
struct sigaction g_prev_bus;
std::atomic<bool> g_installed{false};
constexpr std::size_t kAltStackSize = 256 * 1024;  // room to symbolize and print a report

void chain(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction& prev = sig == SIGBUS ? g_prev_bus : g_prev_segv;
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, uctx);
    return;
  }
  if (prev.sa_handler == SIG_IGN) return;
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the fault repeats and kills us.
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  Worker* w = tl_worker;
  Fiber* f = w != nullptr ? w->current : nullptr;
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  auto lo = f != nullptr ? reinterpret_cast<std::uintptr_t>(f->stack_lo) : 0;
  const std::uintptr_t page = 4096;
  // The guard page (or just below it, for a big frame that skipped it).
  bool overflow = f != nullptr && !f->foreign && addr < lo && addr + 64 * page >= lo;
  if (!overflow) {
    chain(sig, info, uctx);
    return;
  }
  // Say it first with write(2), in case the full report cannot be made.
  char line[160];
  int n = std::snprintf(line, sizeof(line), "fibersan: stack overflow in fiber %llu (fault at %p)\n",
                        static_cast<unsigned long long>(f->id), info->si_addr);
  if (n > 0) (void)!write(2, line, static_cast<std::size_t>(n));
  report_stack_overflow(f, info->si_addr);
  // Abandon the fiber: its stack is dead. Unblock the signal (we never
  // return from this handler) and resume the scheduler context.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  w->current = nullptr;
  w->post = PostSwitch{};
  void* dead_sp = nullptr;
  fsan_switch_context(&dead_sp, w->sched_sp);
  __builtin_unreachable();
}

}  // namespace

void install_overflow_handler() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_prev_segv);
  sigaction(SIGBUS, &sa, &g_prev_bus);
}

namespace {
// The alternate stack this thread installed (nullptr: none, or the thread
// already had one of its own).
thread_local char* t_alt_stack = nullptr;
}  // namespace

void ensure_alt_stack() {
  if (t_alt_stack != nullptr) return;
  stack_t cur;
  if (sigaltstack(nullptr, &cur) == 0 && (cur.ss_flags & SS_DISABLE) == 0 && cur.ss_size >= kAltStackSize) return;
  t_alt_stack = new char[kAltStackSize];
  stack_t ss;
  ss.ss_sp = t_alt_stack;
  ss.ss_size = kAltStackSize;
  ss.ss_flags = 0;
  sigaltstack(&ss, nullptr);
}

void release_alt_stack() {
  if (t_alt_stack == nullptr) return;
  stack_t ss;
  ss.ss_sp = nullptr;
  ss.ss_size = kAltStackSize;
  ss.ss_flags = SS_DISABLE;
  if (sigaltstack(&ss, nullptr) != 0) return;  // still on it (cannot happen outside the handler): keep it
  delete[] t_alt_stack;
  t_alt_stack = nullptr;
}

}  // namespace fsan::detail
