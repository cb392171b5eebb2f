// StackTrie: every call path seen by instrumented code, as a trie of
// (parent node, pc) -> node. A fiber keeps its current node up to date on
// function entry/exit, and each shadow cell stores the node of its access
// (the access pc as a leaf), so the previous access's full stack can always
// be rebuilt — no trace replay, no "failed to restore the stack".
// Nodes are never freed. Node 0 is the root (an empty stack).
// Thread-safety: lookups of existing nodes are lock-free (append-only
// chunked array, published with release stores); inserts take a shard lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace fsan::detail::race {

using NodeId = std::uint32_t;

class StackTrie {
 public:
  static StackTrie& instance();
  // child: the node for calling/being at `pc` under `parent` (created once).
  NodeId child(NodeId parent, std::uintptr_t pc);
  NodeId parent(NodeId n) const;
  // stack: pcs from the innermost frame out, at most max.
  int stack(NodeId n, std::uintptr_t* pcs, int max) const;

 private:
  StackTrie();
  struct Node {
    std::uintptr_t pc;
    NodeId parent;
  };
  static constexpr int kChunkBits = 16;
  static constexpr std::size_t kMaxChunks = 1 << 16;  // 2^32 nodes at most
  const Node& at(NodeId n) const {
    return chunks_[n >> kChunkBits].load(std::memory_order_acquire)[n & ((1u << kChunkBits) - 1)];
  }
  std::atomic<Node*>* chunks_;
  std::atomic<NodeId> count_{1};
};

// NodeCache: a fiber's small direct-mapped cache of (parent, pc) -> child,
// so hot loops and repeated calls never touch the shared trie.
struct NodeCache {
  static constexpr int kSize = 32;
  struct Slot {
    std::uintptr_t key_pc = 0;
    NodeId key_parent = 0;
    NodeId child = 0;
  };
  Slot slots[kSize];
  NodeId lookup(NodeId parent, std::uintptr_t pc) {
    Slot& s = slots[(pc ^ (pc >> 7) ^ parent * 0x9E3779B1u) & (kSize - 1)];
    if (s.key_pc == pc && s.key_parent == parent && s.child != 0) return s.child;
    NodeId c = StackTrie::instance().child(parent, pc);
    s = Slot{pc, parent, c};
    return c;
  }
};

}  // namespace fsan::detail::race
