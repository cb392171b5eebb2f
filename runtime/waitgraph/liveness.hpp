// Liveness: the provable-partial-deadlock analysis (SEMANTICS.md "Provable
// partial deadlock") over one consistent snapshot of the wait-for state.
// Pure: no locks, no runtime calls; the monitor (monitor.cpp) takes the
// snapshot and reports what comes out.
//
// Who can operate what:
//  - a lock (Mutex, RWMutex): its recorded holders (writer or readers). No
//    recorded holder: unknown (it is being released) -> operable.
//  - a channel: the owners of its handles. A handle on fiber P's stack (its
//    go() closure lives there too) belongs to P and to P's descendants (they
//    may have been given a reference: `go([&] {...})`) — unless a pointer
//    into that stack was ever sent on a channel (then: everyone); any other handle
//    (heap, globals, a thread's stack) or an untracked one -> everyone.
//  - a WaitGroup or Cond: by where the object itself lives, the same rule;
//    and since these are only ever shared by pointer, also "everyone" once
//    the owner's family has communicated (release -> acquire) with a fiber
//    outside it (a job handed to a pool worker through a queue).
//  - sleep, once, errgroup limits, anything else: live (a timer or an
//    unknown party wakes it).
//  - nil-channel operations, select with no (non-nil) case: nobody.
// A fiber is live if it is not blocked, or blocked on something a live agent
// can operate; "everyone" is live iff some agent is live. Foreign threads
// are always live; while one might act, channel/WaitGroup/Cond waits count
// as live (a thread can reach anything) and only lock cycles are judged.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <fsan/finding.hpp>

#include "sched/wait_reason.hpp"
#include "waitgraph/handle_registry.hpp"

namespace fsan::detail {
struct Fiber;
}

namespace fsan::detail::waitgraph {

struct AgentView {
  const Fiber* fiber = nullptr;
  std::uint64_t id = 0;
  std::string name;
  bool foreign = false;
  bool main = false;
  bool blocked = false;
  WaitReason why = WaitReason::none;
  std::vector<const void*> waits_on;  // channels of a select, else the one object
  std::uint64_t block_seq = 0;        // which wait this is (changes at every block)
  std::uintptr_t stack_lo = 0, stack_hi = 0;  // [lo, hi): stack and closure
  bool escaped = false;  // a pointer into its stack was sent on a channel
  // It (or a descendant) released something a fiber outside its family then
  // acquired: that fiber may hold pointers into its stack.
  bool shared_out = false;
};

struct WaitSnapshot {
  std::vector<AgentView> agents;
  // Lock -> its holders (agent ids; 0 = a holder that is not a known fiber).
  std::unordered_map<const void*, std::vector<std::uint64_t>> holders;
  std::unordered_map<const void*, bool> is_rwmutex;
  // Fiber id -> parent id, for every fiber of the run that is alive or has a
  // live descendant.
  std::unordered_map<std::uint64_t, std::uint64_t> parent_of;
  HandleSnapshot handles;
  bool foreign_active = false;
};

// What one agent waits for, and who can operate it.
enum class WaitClass : std::uint8_t { live, never, lock, chan, located };
WaitClass classify(WaitReason why);

struct StuckGroup {
  std::vector<std::size_t> members;  // indices into WaitSnapshot::agents
};

// find_stuck_groups: connected groups of fibers no live agent can wake.
// Empty when no agent is live (that is a global deadlock, not partial).
std::vector<StuckGroup> find_stuck_groups(const WaitSnapshot& s);

// build_graph: nodes (members and the objects they wait on), edges
// "waits (<reason>)" / "held by" / "can operate", and a cycle if one exists.
Graph build_graph(const WaitSnapshot& s, const std::vector<std::size_t>& members);

// describe_group: one line, "fiber 7 waits (chan send) on chan 0x.. that only
// fiber 7 can operate; ...".
std::string describe_group(const WaitSnapshot& s, const std::vector<std::size_t>& members);

}  // namespace fsan::detail::waitgraph
