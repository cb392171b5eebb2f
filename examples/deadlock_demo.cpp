// deadlock_demo: a deliberate global deadlock.
// "ping" waits for the ball from "pong" before it sends, "pong" waits for the
// ball from "ping" before it sends, and main waits for the score "ping" would
// send at the end. Nobody serves first, so every fiber is blocked for good:
// fibersan reports a global deadlock ("all fibers are asleep") naming the
// three fibers and their wait reasons, ends the run, and run() returns the
// findings exit code (66 by default).
#include <cstdio>
#include <optional>

#include <fsan/fsan.hpp>

int main() {
  return fsan::run([] {
    auto to_ping = fsan::make_chan<int>();
    auto to_pong = fsan::make_chan<int>();
    auto score = fsan::make_chan<int>();

    fsan::go_named("ping", [to_ping, to_pong, score] {
      int ball = to_ping.recv().value_or(0);  // blocks: pong never sends first
      to_pong.send(ball + 1);
      score.send(ball);
    });
    fsan::go_named("pong", [to_ping, to_pong] {
      int ball = to_pong.recv().value_or(0);  // blocks: ping never sends first
      to_ping.send(ball + 1);
    });

    std::printf("deadlock_demo: main waits for the score; ping and pong each wait for the other\n");
    std::fflush(stdout);
    std::optional<int> s = score.recv();  // blocks: ping never gets that far
    std::printf("deadlock_demo: score %d (unreachable)\n", s.value_or(-1));
  });
}
