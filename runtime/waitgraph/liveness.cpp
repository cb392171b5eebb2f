// Liveness: the fixpoint of liveness.hpp, connected stuck groups, and the
// graph drawn for a report. Everything here reads one WaitSnapshot.
#include "waitgraph/liveness.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

namespace fsan::detail::waitgraph {

WaitClass classify(WaitReason why) {
  switch (why) {
    case WaitReason::chan_send:
    case WaitReason::chan_receive:
    case WaitReason::select:
      return WaitClass::chan;
    case WaitReason::chan_send_nil:
    case WaitReason::chan_receive_nil:
    case WaitReason::select_no_cases:
      return WaitClass::never;
    case WaitReason::sync_mutex_lock:
    case WaitReason::sync_rwmutex_lock:
    case WaitReason::sync_rwmutex_rlock:
      return WaitClass::lock;
    case WaitReason::sync_waitgroup_wait:
    case WaitReason::sync_cond_wait:
      return WaitClass::located;
    case WaitReason::none:
    case WaitReason::sleep:
    case WaitReason::sync_once:
    case WaitReason::errgroup_limit:
    case WaitReason::panic:
      return WaitClass::live;
  }
  return WaitClass::live;
}

namespace {

constexpr std::size_t kEveryone = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kUnknown = kEveryone - 1;  // an operator that is not a known fiber

// One party able to wake an agent: a lock holder or an owner of a channel
// handle / of the memory a WaitGroup or Cond lives in.
struct Operator {
  std::size_t agent;  // index, kEveryone or kUnknown
  const void* obj;
  bool holder;
};

class Analysis {
 public:
  explicit Analysis(const WaitSnapshot& s) : s_(s) {
    for (std::size_t i = 0; i < s.agents.size(); ++i) {
      by_id_[s.agents[i].id] = i;
      if (s.agents[i].stack_hi > s.agents[i].stack_lo) ranges_.emplace_back(s.agents[i].stack_lo, i);
    }
    std::sort(ranges_.begin(), ranges_.end());
    ops_.resize(s.agents.size());
    for (std::size_t i = 0; i < s.agents.size(); ++i)
      if (s.agents[i].blocked) collect_operators(i, &ops_[i]);
  }

  const std::vector<Operator>& operators(std::size_t i) const { return ops_[i]; }

  // solve: the live fixpoint; false if no agent is live at all.
  bool solve() {
    live_.assign(s_.agents.size(), 0);
    live_desc_.assign(s_.agents.size(), 0);
    bool any = false;
    for (std::size_t i = 0; i < s_.agents.size(); ++i)
      if (initially_live(s_.agents[i])) {
        mark_live(i);
        any = true;
      }
    if (!any) return false;
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t i = 0; i < s_.agents.size(); ++i)
        if (!live_[i] && can_wake(i)) {
          mark_live(i);
          changed = true;
        }
    }
    return true;
  }

  bool live(std::size_t i) const { return live_[i] != 0; }

 private:
  bool initially_live(const AgentView& a) const {
    if (!a.blocked || a.foreign) return true;
    WaitClass c = classify(a.why);
    if (c == WaitClass::live) return true;
    // A foreign thread that may act can reach any channel or object.
    return s_.foreign_active && (c == WaitClass::chan || c == WaitClass::located);
  }

  void mark_live(std::size_t i) {
    live_[i] = 1;
    // Its ancestors' stacks may be reachable from it (go([&] {...})).
    std::uint64_t id = s_.agents[i].id;
    for (std::size_t guard = 0; guard < s_.parent_of.size() + 1; ++guard) {
      auto p = s_.parent_of.find(id);
      if (p == s_.parent_of.end() || p->second == 0) break;
      id = p->second;
      auto idx = by_id_.find(id);
      if (idx != by_id_.end()) {
        if (live_desc_[idx->second]) break;
        live_desc_[idx->second] = 1;
      }
    }
  }

  bool can_wake(std::size_t i) const {
    for (const Operator& op : ops_[i]) {
      if (op.agent == kUnknown || op.agent == kEveryone) return true;  // some agent is live (solve)
      if (live_[op.agent]) return true;
      if (!op.holder && live_desc_[op.agent]) return true;
    }
    return false;
  }

  // owner_of: the fiber whose stack holds address a, or kEveryone.
  std::size_t owner_of(std::uintptr_t a) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(a, kEveryone));
    if (it == ranges_.begin()) return kEveryone;
    --it;
    const AgentView& v = s_.agents[it->second];
    return a >= v.stack_lo && a < v.stack_hi && !v.escaped ? it->second : kEveryone;
  }

  void add(std::vector<Operator>* out, std::size_t agent, const void* obj, bool holder) const {
    for (const Operator& o : *out)
      if (o.agent == agent && o.obj == obj) return;
    out->push_back(Operator{agent, obj, holder});
  }

  void collect_operators(std::size_t i, std::vector<Operator>* out) const {
    const AgentView& a = s_.agents[i];
    switch (classify(a.why)) {
      case WaitClass::live:
      case WaitClass::never:
        return;
      case WaitClass::lock: {
        for (const void* m : a.waits_on) {
          auto h = s_.holders.find(m);
          if (h == s_.holders.end() || h->second.empty()) {
            add(out, kUnknown, m, true);  // being released right now
            continue;
          }
          for (std::uint64_t id : h->second) {
            auto idx = by_id_.find(id);
            add(out, idx == by_id_.end() ? kUnknown : idx->second, m, true);
          }
        }
        return;
      }
      case WaitClass::chan: {
        const HandleSnapshot& hs = s_.handles;
        for (const void* c : a.waits_on) {
          auto key = static_cast<const ChanCore*>(c);
          auto [lo, hi] = std::equal_range(hs.handles.begin(), hs.handles.end(), HandleView{key, 0},
                                           [](const HandleView& x, const HandleView& y) { return x.chan < y.chan; });
          if (lo == hi || std::binary_search(hs.untracked.begin(), hs.untracked.end(), key)) {
            add(out, kEveryone, c, false);
            continue;
          }
          for (auto h = lo; h != hi; ++h) add(out, owner_of(h->at), c, false);
        }
        return;
      }
      case WaitClass::located:
        for (const void* o : a.waits_on) {
          std::size_t owner = owner_of(reinterpret_cast<std::uintptr_t>(o));
          add(out, owner != kEveryone && s_.agents[owner].shared_out ? kEveryone : owner, o, false);
        }
        return;
    }
  }

  const WaitSnapshot& s_;
  std::unordered_map<std::uint64_t, std::size_t> by_id_;
  std::vector<std::pair<std::uintptr_t, std::size_t>> ranges_;
  std::vector<std::vector<Operator>> ops_;
  std::vector<char> live_, live_desc_;
};

std::string hex(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%p", p);
  return buf;
}

std::string fiber_label(const AgentView& a) {
  return "fiber " + std::to_string(a.id) + (a.name.empty() ? "" : " " + a.name);
}

std::string object_type(const WaitSnapshot& s, WaitReason why) {
  switch (classify(why)) {
    case WaitClass::lock:
      return "mutex";
    case WaitClass::chan:
    case WaitClass::never:
      return "chan";
    case WaitClass::located:
      return why == WaitReason::sync_cond_wait ? "cond" : "waitgroup";
    case WaitClass::live:
      break;
  }
  (void)s;
  return "object";
}

std::string object_label(const WaitSnapshot& s, WaitReason why, const void* obj) {
  switch (classify(why)) {
    case WaitClass::lock: {
      auto rw = s.is_rwmutex.find(obj);
      bool is_rw = (rw != s.is_rwmutex.end() && rw->second) || why != WaitReason::sync_mutex_lock;
      return std::string(is_rw ? "RWMutex " : "Mutex ") + hex(obj);
    }
    case WaitClass::chan:
      return "chan " + hex(obj);
    case WaitClass::never:
      return why == WaitReason::select_no_cases ? "select with no case" : "nil chan";
    case WaitClass::located:
      return std::string(why == WaitReason::sync_cond_wait ? "Cond " : "WaitGroup ") + hex(obj);
    case WaitClass::live:
      break;
  }
  return hex(obj);
}

// descends_from: whether fiber `id` was spawned (transitively) by `ancestor`.
bool descends_from(const WaitSnapshot& s, std::uint64_t id, std::uint64_t ancestor) {
  for (std::size_t guard = 0; guard <= s.parent_of.size(); ++guard) {
    auto p = s.parent_of.find(id);
    if (p == s.parent_of.end() || p->second == 0) return false;
    if (p->second == ancestor) return true;
    id = p->second;
  }
  return false;
}

// Past this group size the graph keeps only direct owners (readability).
constexpr std::size_t kMaxReferenceEdges = 64;

}  // namespace

std::vector<StuckGroup> find_stuck_groups(const WaitSnapshot& s) {
  Analysis an(s);
  if (!an.solve()) return {};
  std::size_t n = s.agents.size();
  std::vector<std::size_t> root(n);
  std::iota(root.begin(), root.end(), std::size_t{0});
  std::function<std::size_t(std::size_t)> find = [&](std::size_t x) {
    while (root[x] != x) x = root[x] = root[root[x]];
    return x;
  };
  auto stuck = [&](std::size_t i) { return s.agents[i].blocked && !an.live(i); };
  for (std::size_t i = 0; i < n; ++i) {
    if (!stuck(i)) continue;
    for (const Operator& op : an.operators(i))
      if (op.agent < n && stuck(op.agent)) root[find(i)] = find(op.agent);
  }
  std::unordered_map<std::size_t, std::size_t> group_of;
  std::vector<StuckGroup> groups;
  for (std::size_t i = 0; i < n; ++i) {
    if (!stuck(i)) continue;
    auto [it, fresh] = group_of.emplace(find(i), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].members.push_back(i);
  }
  // Main parked in `select {}` on purpose (Go's "keep the process alive"
  // idiom) is no partial deadlock; when everything else stops it is global.
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [&](const StuckGroup& g) {
                                return g.members.size() == 1 && s.agents[g.members[0]].main &&
                                       s.agents[g.members[0]].why == WaitReason::select_no_cases;
                              }),
               groups.end());
  return groups;
}

Graph build_graph(const WaitSnapshot& s, const std::vector<std::size_t>& members) {
  Analysis an(s);
  Graph g;
  std::set<std::size_t> in_group(members.begin(), members.end());
  std::unordered_map<const void*, std::string> obj_id;
  std::unordered_map<std::string, std::vector<std::string>> next;  // directed adjacency
  auto fid = [&](std::size_t i) { return "f" + std::to_string(s.agents[i].id); };
  for (std::size_t i : members) g.nodes.push_back(GraphNode{fid(i), "fiber", fiber_label(s.agents[i])});
  std::set<std::pair<std::string, std::string>> have_edge;
  auto edge = [&](const std::string& from, const std::string& to, const std::string& label) {
    if (!have_edge.emplace(from, to).second) return;
    g.edges.push_back(GraphEdge{from, to, label});
    next[from].push_back(to);
  };
  for (std::size_t i : members) {
    const AgentView& a = s.agents[i];
    std::string wait = std::string("waits (") + to_string(a.why) + ")";
    if (classify(a.why) == WaitClass::never || a.waits_on.empty()) {
      // Nothing can ever operate it (nil channels only): a node with no way out.
      std::string id = "o" + std::to_string(g.nodes.size());
      g.nodes.push_back(GraphNode{id, "chan", a.waits_on.empty() && a.why == WaitReason::select
                                                  ? std::string("nil chans only")
                                                  : object_label(s, a.why, nullptr)});
      edge(fid(i), id, wait);
      continue;
    }
    for (const void* o : a.waits_on) {
      auto [it, fresh] = obj_id.emplace(o, "");
      if (fresh) {
        it->second = (classify(a.why) == WaitClass::lock ? "m" : "o") + std::to_string(obj_id.size());
        g.nodes.push_back(GraphNode{it->second, object_type(s, a.why), object_label(s, a.why, o)});
      }
      edge(fid(i), it->second, wait);
    }
    for (const Operator& op : an.operators(i)) {
      if (in_group.count(op.agent) == 0) continue;
      edge(obj_id[op.obj], fid(op.agent), op.holder ? "held by" : "can operate");
      if (op.holder || members.size() > kMaxReferenceEdges) continue;
      // Descendants of the owner may reach it through a reference (go([&] {...})).
      for (std::size_t d : members)
        if (d != op.agent && d != i && descends_from(s, s.agents[d].id, s.agents[op.agent].id))
          edge(obj_id[op.obj], fid(d), "can operate (by reference)");
    }
  }
  // A cycle through the group, if there is one: the first back edge of a
  // DFS from each member (edges to other fibers tried first), keeping the
  // longest such cycle — the one that shows most of the group.
  std::set<std::pair<std::string, std::string>> by_reference;
  for (const GraphEdge& e : g.edges)
    if (e.label == "can operate (by reference)") by_reference.emplace(e.from, e.to);
  for (auto& [from, to] : next)
    std::stable_partition(to.begin(), to.end(), [&, &from = from](const std::string& v) {
      return by_reference.count({from, v}) != 0;
    });
  std::size_t starts = members.size() > kMaxReferenceEdges ? 1 : members.size();
  for (std::size_t k = 0; k < starts; ++k) {
    std::unordered_map<std::string, int> color;
    std::vector<std::string> path, found;
    std::function<bool(const std::string&)> dfs = [&](const std::string& u) {
      color[u] = 1;
      path.push_back(u);
      for (const std::string& v : next[u]) {
        if (color[v] == 1) {
          found.assign(std::find(path.begin(), path.end(), v), path.end());
          found.push_back(v);
          return true;
        }
        if (color[v] == 0 && dfs(v)) return true;
      }
      color[u] = 2;
      path.pop_back();
      return false;
    };
    if (dfs(fid(members[k])) && found.size() > g.cycle.size()) g.cycle = found;
  }
  return g;
}

std::string describe_group(const WaitSnapshot& s, const std::vector<std::size_t>& members) {
  Analysis an(s);
  std::string out;
  for (std::size_t i : members) {
    const AgentView& a = s.agents[i];
    if (!out.empty()) out += "; ";
    out += "fiber " + std::to_string(a.id) + " waits (" + to_string(a.why) + ")";
    if (classify(a.why) == WaitClass::never || a.waits_on.empty()) {
      out += a.waits_on.empty() && a.why == WaitReason::select ? std::string(" on nil channels only")
                                                              : " on " + object_label(s, a.why, nullptr);
      out += ", which nothing can operate";
      continue;
    }
    for (std::size_t k = 0; k < a.waits_on.size(); ++k)
      out += (k ? ", " : " on ") + object_label(s, a.why, a.waits_on[k]);
    std::set<std::uint64_t> who;
    bool holders = false;
    for (const Operator& op : an.operators(i))
      if (op.agent < s.agents.size()) {
        who.insert(s.agents[op.agent].id);
        holders = holders || op.holder;
      }
    if (who.empty()) {
      out += " that no fiber can reach any more";
      continue;
    }
    out += holders ? " held by" : " that only";
    bool first = true;
    for (std::uint64_t id : who) {
      out += (first ? " fiber " : ", fiber ") + std::to_string(id);
      first = false;
    }
    if (!holders) out += " can operate";
  }
  return out;
}

}  // namespace fsan::detail::waitgraph
