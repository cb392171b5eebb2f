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
class Scheduler;

// Options from the environment: FSAN_OPTIONS wins over `o`. On a bad value
// prints one line naming it and returns false.
bool apply_env_options(Options& o);

void begin_run_reports(const Options& o);
void end_run_reports();

// publish_finding: fills id and signature, drops a duplicate, stores, prints,
// writes JSON. Returns false if it was a duplicate.
bool publish_finding(Finding f);

// describe_fiber: id, name, state, wait reason and both stacks. `stack`
// holds pcs captured by the caller (current stack, or a parked one).
FiberInfo describe_fiber(const Fiber* f, const std::uintptr_t* stack, int n_stack, std::int64_t now = 0);

// Kinds the runtime core reports.
[[noreturn]] void report_panic(const char* message);
void report_uncaught_exception(Fiber* f, std::exception_ptr e);
void report_stack_overflow(Fiber* f, const void* fault_addr);
void report_global_deadlock(Scheduler* s);

// Printers.
std::string format_text(const Finding& f);
std::string format_json_report(const std::vector<Finding>& findings, const std::string& options_text);
std::string format_frame(const Frame& fr);

}  // namespace fsan::detail
