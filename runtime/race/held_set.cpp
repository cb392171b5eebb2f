// HeldSets (held_set.hpp): a hash-consed table of mutex sets.
// Lock order: g_mu is a leaf.
#include "race/held_set.hpp"

#include <mutex>
#include <unordered_map>

namespace fsan::detail::race {
namespace {

struct Table {
  std::mutex mu;
  std::vector<std::vector<HeldMutex>> sets{{}};  // index = id; 0 = empty
  std::unordered_multimap<std::uint64_t, HeldSetId> by_hash;
};

Table& table() {
  static Table* t = new Table();
  return *t;
}

std::uint64_t hash_of(const std::vector<HeldMutex>& set) {
  std::uint64_t h = 1469598103934665603ull;
  for (const HeldMutex& m : set) {
    for (std::uint64_t v : {static_cast<std::uint64_t>(m.addr), std::uint64_t{m.write}, std::uint64_t{m.acquired}}) {
      h ^= v;
      h *= 1099511628211ull;
    }
  }
  return h;
}

}  // namespace

HeldSets& HeldSets::instance() {
  static HeldSets* s = new HeldSets();
  return *s;
}

HeldSetId HeldSets::intern(const std::vector<HeldMutex>& set) {
  if (set.empty()) return 0;
  Table& t = table();
  std::uint64_t h = hash_of(set);
  std::lock_guard<std::mutex> g(t.mu);
  auto [lo, hi] = t.by_hash.equal_range(h);
  for (auto it = lo; it != hi; ++it)
    if (t.sets[it->second] == set) return it->second;
  auto id = static_cast<HeldSetId>(t.sets.size());
  t.sets.push_back(set);
  t.by_hash.emplace(h, id);
  return id;
}

std::vector<HeldMutex> HeldSets::get(HeldSetId id) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.mu);
  return id < t.sets.size() ? t.sets[id] : std::vector<HeldMutex>{};
}

}  // namespace fsan::detail::race
