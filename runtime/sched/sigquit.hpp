// SIGQUIT: while a run is active, SIGQUIT prints a dump of every fiber (the
// same text as fsan::dump_fibers()) to stderr and the process continues.
#pragma once

namespace fsan::detail {

// install_sigquit_handler: at run start. Saves the current disposition and
// installs the dump handler (not if SIGQUIT is ignored: a parent asked for
// that). uninstall_sigquit_handler: at run end, puts the saved disposition
// back unless someone replaced ours meanwhile.
void install_sigquit_handler();
void uninstall_sigquit_handler();

}  // namespace fsan::detail
