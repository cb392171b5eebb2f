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
  // join: this = max(this, o), entry by entry. Usually every sid of o is
  // already here (a fiber acquiring what it or its parent released), so
  // entries are raised in place; the first sid missing here switches to a
  // linear merge of the rest.
  void join(const VClock& o) {
    if (o.v_.empty()) return;
    if (v_.empty()) {
      v_ = o.v_;
      return;
    }
    auto a = v_.begin();
    auto b = o.v_.cbegin();
    for (; b != o.v_.cend(); ++b) {
      while (a != v_.end() && a->sid < b->sid) ++a;
      if (a == v_.end() || a->sid != b->sid) break;
      if (a->epoch < b->epoch) a->epoch = b->epoch;
    }
    if (b == o.v_.cend()) return;
    std::vector<Entry> out;
    out.reserve(v_.size() + static_cast<std::size_t>(o.v_.cend() - b));
    out.assign(v_.begin(), a);
    auto ac = static_cast<std::vector<Entry>::const_iterator>(a);
    while (ac != v_.cend() || b != o.v_.cend()) {
      if (b == o.v_.cend() || (ac != v_.cend() && ac->sid < b->sid)) {
        out.push_back(*ac++);
      } else if (ac == v_.cend() || b->sid < ac->sid) {
        out.push_back(*b++);
      } else {
        out.push_back(Entry{ac->sid, std::max(ac->epoch, b->epoch)});
        ++ac;
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
