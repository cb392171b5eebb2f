// SIGQUIT dumps (see sigquit.hpp). The handler does only async-signal-safe
// work: it writes one byte to a pipe, then chains to the disposition it
// replaced if that was a handler. A dedicated dumper thread (created once
// per process, all signals blocked) reads the pipe and prints the dump; it
// may probe parked fibers from outside the workers (scheduler.hpp).
#include "sched/sigquit.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <fsan/fiber.hpp>

#include "sched/foreign.hpp"

namespace fsan::detail {
namespace {

std::mutex g_mu;  // install state; never taken by the handler
bool g_installed = false;
struct sigaction g_prev;  // written only while our handler is not installed
int g_pipe[2] = {-1, -1};

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

void on_sigquit(int sig, siginfo_t* info, void* uctx) {
  int saved = errno;
  // The handler we replaced runs first, so it has run by the time the dump
  // is out; the default action (quit with a core) is what we replace.
  if ((g_prev.sa_flags & SA_SIGINFO) != 0) {
    if (g_prev.sa_sigaction != nullptr) g_prev.sa_sigaction(sig, info, uctx);
  } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN && g_prev.sa_handler != nullptr) {
    g_prev.sa_handler(sig);
  }
  char c = 1;
  (void)!write(g_pipe[1], &c, 1);  // non-blocking: a full pipe already has a dump pending
  errno = saved;
}

void dumper_main() {
  mark_internal_thread();
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  char buf[64];
  for (;;) {
    ssize_t n = read(g_pipe[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    std::string text = "fibersan: SIGQUIT: dump of every fiber (pid=" + std::to_string(getpid()) + ")\n";
    std::string dump = fsan::dump_fibers();
    text += dump.empty() ? "(no run in progress)\n\n" : dump;
    text += "fibersan: end of SIGQUIT dump\n";
    write_all(2, text.data(), text.size());
  }
}

bool start_dumper() {
  static bool ok = [] {
    if (pipe2(g_pipe, O_CLOEXEC) != 0) return false;
    fcntl(g_pipe[1], F_SETFL, fcntl(g_pipe[1], F_GETFL) | O_NONBLOCK);
    std::thread(dumper_main).detach();
    return true;
  }();
  return ok;
}

}  // namespace

void install_sigquit_handler() {
  std::lock_guard<std::mutex> g(g_mu);
  if (g_installed) return;
  struct sigaction cur;
  if (sigaction(SIGQUIT, nullptr, &cur) != 0) return;
  if ((cur.sa_flags & SA_SIGINFO) == 0 && cur.sa_handler == SIG_IGN) return;
  if (!start_dumper()) return;
  g_prev = cur;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &on_sigquit;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGQUIT, &sa, nullptr) == 0) g_installed = true;
}

void uninstall_sigquit_handler() {
  std::lock_guard<std::mutex> g(g_mu);
  if (!g_installed) return;
  g_installed = false;
  struct sigaction cur;
  if (sigaction(SIGQUIT, nullptr, &cur) != 0) return;
  // Someone installed their own handler during the run: theirs stays.
  if ((cur.sa_flags & SA_SIGINFO) == 0 || cur.sa_sigaction != &on_sigquit) return;
  sigaction(SIGQUIT, &g_prev, nullptr);
}

}  // namespace fsan::detail
