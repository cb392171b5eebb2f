// Findings as data (REPORTS.md): detectors fill these records, printers
// (text, JSON, HTML, SARIF, JUnit) render them. A switch over FindingKind has
// no default, so a new kind does not compile until every printer handles it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fsan {

enum class FindingKind {
  data_race,
  global_deadlock,
  partial_deadlock,
  lock_order_inversion,
  fiber_leak,
  timer_leak,
  lost_cancel,
  panic,
};

// to_string: the kind's schema name ("data_race", "global_deadlock", ...).
const char* to_string(FindingKind k);

// Frame: one stack frame; module+offset always, the rest where debug info
// allows (line 0 = unknown).
struct Frame {
  std::uintptr_t pc = 0;
  std::string module;
  std::uintptr_t offset = 0;
  std::string function;
  std::string file;
  int line = 0;
  int column = 0;
};

struct FiberInfo {
  std::uint64_t id = 0;
  std::string name;
  std::string state;        // "running", "runnable", "waiting", "sleeping"
  std::string wait_reason;  // Go's strings: "chan send", "select", ...; empty if none
  std::int64_t wait_ns = 0;
  std::uint64_t parent_id = 0;
  std::vector<Frame> stack;
  std::vector<Frame> created_at;
};

// HeldLock: a Mutex/RWMutex the accessing fiber held at the access, with
// where it was acquired (race reports list them, as TSan's "Mutex M1 held").
struct HeldLock {
  std::uintptr_t addr = 0;
  bool write = true;  // false: held shared (RWMutex::lock_shared)
  std::vector<Frame> acquired_at;
};

struct Access {
  std::uint64_t fiber = 0;
  std::string op;  // "read" | "write"
  std::size_t size = 0;
  std::uintptr_t addr = 0;
  bool atomic = false;
  std::vector<Frame> stack;
  std::vector<HeldLock> held;  // locks held by the fiber at this access
};

struct Location {
  std::string kind;  // "heap" | "global" | "stack"
  std::size_t size = 0;
  std::string name;  // global's name, or whose stack
  std::uint64_t alloc_fiber = 0;  // heap: the allocating fiber
  std::vector<Frame> alloc_stack;
};

struct GraphNode {
  std::string id, type, label;
};
struct GraphEdge {
  std::string from, to, label;
};
struct Graph {
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;
  std::vector<std::string> cycle;
  bool empty() const { return nodes.empty(); }
};

struct Finding {
  std::string id;  // "<kind>-<n>", unique per process
  FindingKind kind = FindingKind::panic;
  std::string signature;  // hex hash of kind + top frames
  std::string summary;    // one line, e.g. "send on closed channel main.cpp:12:5 in f()"
  std::string message;    // the headline, e.g. "send on closed channel"
  std::string test;       // "Suite.Name" when found inside an FSAN_TEST, else empty
  std::vector<FiberInfo> fibers;
  std::vector<Access> accesses;
  std::optional<Location> location;
  Graph graph;
};

// findings: everything reported in the current run, or in the last run when
// none is in progress. Cleared when a run starts.
std::vector<Finding> findings();

}  // namespace fsan
