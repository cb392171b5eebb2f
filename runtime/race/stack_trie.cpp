// StackTrie: see stack_trie.hpp. The (parent, pc) -> child index is a
// sharded open hash table guarded by one mutex per shard.
#include "race/stack_trie.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace fsan::detail::race {
namespace {

constexpr int kShards = 64;
struct Shard {
  std::mutex mu;
  std::unordered_map<std::uint64_t, NodeId> map;  // key: hash of (parent, pc) mixed; value chains checked
};

std::uint64_t key_of(NodeId parent, std::uintptr_t pc) {
  std::uint64_t k = (static_cast<std::uint64_t>(pc) << 16) ^ (static_cast<std::uint64_t>(parent) * 0x9E3779B97F4A7C15ull);
  return k ^ (k >> 29);
}

Shard* shards() {
  static Shard* s = new Shard[kShards];
  return s;
}

}  // namespace

StackTrie& StackTrie::instance() {
  static StackTrie* t = new StackTrie();
  return *t;
}

StackTrie::StackTrie() {
  chunks_ = new std::atomic<Node*>[kMaxChunks]();
  Node* first = new Node[1u << kChunkBits]();
  first[0] = Node{0, 0};
  chunks_[0].store(first, std::memory_order_release);
}

NodeId StackTrie::child(NodeId parent, std::uintptr_t pc) {
  std::uint64_t k = key_of(parent, pc);
  Shard& sh = shards()[k % kShards];
  std::lock_guard<std::mutex> g(sh.mu);
  // Collisions of the 64-bit key are resolved by probing k+1, k+2, ...
  for (std::uint64_t probe = k;; ++probe) {
    auto it = sh.map.find(probe);
    if (it == sh.map.end()) break;
    const Node& n = at(it->second);
    if (n.pc == pc && n.parent == parent) return it->second;
  }
  NodeId id = count_.fetch_add(1, std::memory_order_relaxed);
  std::size_t chunk = id >> kChunkBits;
  if (chunk >= kMaxChunks) return parent;  // trie full: stacks get shorter, never wrong
  Node* c = chunks_[chunk].load(std::memory_order_acquire);
  if (c == nullptr) {
    Node* fresh = new Node[1u << kChunkBits]();
    if (chunks_[chunk].compare_exchange_strong(c, fresh, std::memory_order_acq_rel))
      c = fresh;
    else
      delete[] fresh;
  }
  c[id & ((1u << kChunkBits) - 1)] = Node{pc, parent};
  std::atomic_thread_fence(std::memory_order_release);
  std::uint64_t probe = k;
  while (sh.map.count(probe) != 0) ++probe;
  sh.map.emplace(probe, id);
  return id;
}

NodeId StackTrie::parent(NodeId n) const { return n == 0 ? 0 : at(n).parent; }

int StackTrie::stack(NodeId n, std::uintptr_t* pcs, int max) const {
  int k = 0;
  while (n != 0 && k < max) {
    const Node& node = at(n);
    pcs[k++] = node.pc;
    n = node.parent;
  }
  return k;
}

}  // namespace fsan::detail::race
