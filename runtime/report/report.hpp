// Reporting: how detectors turn what they saw into Finding records, and what
// happens to a finding (dedupe by signature, keep for fsan::findings(),
// print to stderr, append to DIR/fsan.<pid>.json, end the run when it must).
// Printers are separate (text_printer.cpp, json_writer.cpp).
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include <fsan/finding.hpp>
#include <fsan/options.hpp>

namespace fsan::detail {

struct Fiber;
struct FiberSnapshot;
class Scheduler;

// Options from the environment: FSAN_OPTIONS wins over `o`. On a bad value
// prints one line naming it and returns false.
bool apply_env_options(Options& o);

void begin_run_reports(const Options& o);
void end_run_reports();

// headline: the kind as the reports' first line says it ("data race",
// "lock-order inversion (potential deadlock)", ...).
const char* headline(FindingKind k);

// publish_finding: fills id and signature, drops a duplicate, stores, prints,
// writes JSON. Returns false if it was a duplicate; else stores the id it
// gave the finding in *id (when id is not null).
bool publish_finding(Finding f, std::string* id = nullptr);

// set_finding_test: findings published from now on belong to this test
// ("Suite.Name", set by FSAN_TEST's runner around its run; "" = none).
void set_finding_test(const std::string& test);
std::string finding_test();

// describe_fiber: id, name, state, wait reason and both stacks. `stack`
// holds pcs captured by the caller (current stack, or a parked one).
FiberInfo describe_fiber(const Fiber* f, const std::uintptr_t* stack, int n_stack, std::int64_t now = 0);

// describe_snapshots: one FiberInfo per snapshot (scheduler.hpp), all stacks
// symbolized in one batch; wait durations measured at `now`.
std::vector<FiberInfo> describe_snapshots(const std::vector<FiberSnapshot>& snaps, std::int64_t now);

// filter_user_frames: drops the runtime's own frames (and std::invoke
// plumbing, thread-start frames) so a stack starts at the user's code.
std::vector<Frame> filter_user_frames(std::vector<Frame> all);

// Kinds the runtime core reports.
[[noreturn]] void report_panic(const char* message);
void report_uncaught_exception(Fiber* f, std::exception_ptr e);
void report_stack_overflow(Fiber* f, const void* fault_addr);
void report_global_deadlock(Scheduler* s);
// Set by the wait-for graph detector when it is on: draws the blocked
// fibers' graph into a global_deadlock finding.
extern void (*g_global_deadlock_graph)(Finding& f);

// throw_site: the stack where `e` was thrown, if it was thrown on fiber f
// and the runtime's __cxa_throw recorded it (throw_site.cpp); else 0.
int throw_site(const Fiber* f, const std::exception_ptr& e, std::uintptr_t* pcs, int max);

// Printers.
std::string format_text(const Finding& f);
std::string format_json_report(const std::vector<Finding>& findings, const std::string& options_text);
std::string format_frame(const Frame& fr);
// format_fiber_header: Go's goroutine header, `fiber 9 "worker" [chan send, 3.2s]`
// (no colon); a foreign thread (id 0) reads `foreign thread 4242 [...]`.
std::string format_fiber_header(const FiberInfo& fi);
// format_fiber_dump: the text of dump_fibers() and of a SIGQUIT dump.
std::string format_fiber_dump(const std::vector<FiberInfo>& fibers);

}  // namespace fsan::detail
