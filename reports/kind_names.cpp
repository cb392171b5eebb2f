// What `fsan report` says about each kind (kinds.hpp): parsing names, the
// suppression type that covers a kind, and the rule texts of SARIF. Kept out
// of kinds.cpp so that object file holds fsan::to_string alone. Switches have
// no default: a new kind does not compile until it is described here.
#include "kinds.hpp"

namespace fsan::reports {

std::optional<FindingKind> parse_kind(std::string_view name) {
  for (FindingKind k : all_kinds)
    if (name == to_string(k)) return k;
  return std::nullopt;
}

const char* suppression_type(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return "race";
    case FindingKind::global_deadlock:
    case FindingKind::partial_deadlock:
    case FindingKind::lock_order_inversion:
      return "deadlock";
    case FindingKind::fiber_leak:
    case FindingKind::timer_leak:
    case FindingKind::lost_cancel:
      return "leak";
    case FindingKind::panic:
      return "panic";
  }
  return "?";
}

KindText kind_text(FindingKind k) {
  switch (k) {
    case FindingKind::data_race:
      return {"Data race",
              "Two fibers (or threads) accessed the same memory concurrently, at least one access was a write, "
              "and no synchronization (channel operation, mutex, WaitGroup, atomic) ordered them.",
              "Order the two accesses: protect the data with an fsan::Mutex held at both accesses, hand it over "
              "through a channel, or use std::atomic. Both stacks of the finding show the conflicting accesses; "
              "the creation stacks show where the fibers were started."};
    case FindingKind::global_deadlock:
      return {"Global deadlock",
              "Every fiber of the run was blocked for good (Go's \"all goroutines are asleep - deadlock!\").",
              "Look at what each fiber waits on: a channel nobody sends to or closes, a mutex never unlocked, "
              "a WaitGroup whose counter never reaches zero. Close channels when the sender is done, pair every "
              "lock with an unlock, and every add with a done."};
    case FindingKind::partial_deadlock:
      return {"Partial deadlock",
              "A group of fibers is blocked on each other or on objects no running fiber can operate any more, "
              "while the rest of the program continues.",
              "Follow the wait-for cycle in the finding: each fiber waits on an object held (or only operable) by "
              "the next. Acquire locks in one global order, or give blocked channel operations a way out (select "
              "with a Context's done channel, buffered channels, closing the channel)."};
    case FindingKind::lock_order_inversion:
      return {"Lock-order inversion",
              "Two locks were acquired in opposite orders by different fibers; the run did not hang, but a "
              "different interleaving deadlocks (a potential deadlock).",
              "Acquire the locks in one consistent order everywhere, or merge them into one lock. The finding "
              "shows where each order was established."};
    case FindingKind::fiber_leak:
      return {"Fiber leak",
              "A fiber was still blocked when its run or test ended, and nothing can wake it (Go's goroutine leak).",
              "Give the fiber a way to finish: close the channel it receives from, use a buffered channel for a "
              "result nobody may read, or select on a Context's done channel and cancel it."};
    case FindingKind::timer_leak:
      return {
          "Timer leak", "A Timer or Ticker was still active when its owner was gone and was never stopped.",
          "Call stop() on every Timer and Ticker when it is no longer needed (defer-style, e.g. in a scope guard)."};
    case FindingKind::lost_cancel:
      return {"Lost cancel",
              "A Context's cancel function was dropped without being called, so the context and its timer leak "
              "until the parent is cancelled.",
              "Call the cancel function on every path, typically right after with_cancel/with_timeout returns "
              "(Go: defer cancel())."};
    case FindingKind::panic:
      return {"Panic",
              "The program panicked: a runtime error such as a send on a closed channel, closing a closed channel, "
              "unlocking an unlocked mutex, a negative WaitGroup counter, or an exception escaping a fiber.",
              "Read the panic message and the stack of the panicking fiber; fix the misuse it names (for example, "
              "only the sender closes a channel, and only once)."};
  }
  return {"?", "?", "?"};
}

}  // namespace fsan::reports
