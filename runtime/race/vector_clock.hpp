// VClock: a sparse vector clock, sorted (sid, epoch) pairs. Fibers come and
// go by the million, so clocks hold only the slots a fiber has actually
// synchronized with (transitively), not one entry per slot ever used.
// Not thread-safe: each clock is owned by one agent or guarded by its
// SyncVar's lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace fsan::detail::race {

using Sid = std::uint32_t;
using Epoch = std::uint32_t;

class VClock {
 public:
  Epoch get(Sid s) const {
    auto it = std::lower_bound(v_.begin(), v_.end(), s, [](const Entry& e, Sid k) { return e.sid < k; });
    return it != v_.end() && it->sid == s ? it->epoch : 0;
  }
  void set(Sid s, Epoch e) {
    auto it = std::lower_bound(v_.begin(), v_.end(), s, [](const Entry& x, Sid k) { return x.sid < k; });
    if (it != v_.end() && it->sid == s)
      it->epoch = e;
    else
      v_.insert(it, Entry{s, e});
  }
  // join: this = max(this, o), entry by entry (a linear merge).
  void join(const VClock& o) {
    if (o.v_.empty()) return;
    if (v_.empty()) {
      v_ = o.v_;
      return;
    }
    // Fast path: every sid of o already present: raise epochs in place, no
    // allocation (re-acquiring the same lock or channel). Entries raised
    // before a missing sid turns up are harmless: the merge below takes the
    // max again.
    std::size_t i = 0;
    bool subset = true;
    for (const Entry& e : o.v_) {
      while (i < v_.size() && v_[i].sid < e.sid) ++i;
      if (i == v_.size() || v_[i].sid != e.sid) {
        subset = false;
        break;
      }
      if (v_[i].epoch < e.epoch) v_[i].epoch = e.epoch;
      ++i;
    }
    if (subset) return;
    std::vector<Entry> out;
    out.reserve(v_.size() + o.v_.size());
    auto a = v_.cbegin();
    auto b = o.v_.cbegin();
    while (a != v_.cend() || b != o.v_.cend()) {
      if (b == o.v_.cend() || (a != v_.cend() && a->sid < b->sid)) {
        out.push_back(*a++);
      } else if (a == v_.cend() || b->sid < a->sid) {
        out.push_back(*b++);
      } else {
        out.push_back(Entry{a->sid, std::max(a->epoch, b->epoch)});
        ++a;
        ++b;
      }
    }
    v_.swap(out);
  }
  // clear: empties the clock and frees its memory (a dropped sync var's
  // clock may have held a million entries).
  void clear() { std::vector<Entry>().swap(v_); }
  std::size_t size() const { return v_.size(); }

 private:
  struct Entry {
    Sid sid;
    Epoch epoch;
  };
  std::vector<Entry> v_;
};

}  // namespace fsan::detail::race
