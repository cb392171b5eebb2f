// HeldSets: the mutexes a fiber holds at an access, interned to a 32-bit id
// so a shadow cell can remember them next to its origin (race reports list
// the locks held at both accesses, like TSan's "Mutex M1 held"). Id 0 is the
// empty set. Sets live for the process (a foreign thread's agent, which
// outlives a run, keeps referring to them).
// Thread-safety: intern() and get() take the table's lock; a fiber keeps the
// id of its current set, so accesses never touch the table.
#pragma once

#include <cstdint>
#include <vector>

#include "race/stack_trie.hpp"

namespace fsan::detail::race {

using HeldSetId = std::uint32_t;

// HeldMutex: one mutex held, how (write = exclusive), where it was acquired.
struct HeldMutex {
  std::uintptr_t addr = 0;
  bool write = true;
  NodeId acquired = 0;
  bool operator==(const HeldMutex& o) const { return addr == o.addr && write == o.write && acquired == o.acquired; }
};

class HeldSets {
 public:
  static HeldSets& instance();
  // intern: the id of `set` (in acquisition order); 0 for an empty set.
  HeldSetId intern(const std::vector<HeldMutex>& set);
  // get: the set an id stands for (empty for 0 or an id from an ended run).
  std::vector<HeldMutex> get(HeldSetId id);

 private:
  HeldSets() = default;
};

}  // namespace fsan::detail::race
