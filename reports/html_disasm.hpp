// Disassembly around a frame's pc, for frames without debug info (no file or
// line): the module named by the frame is read from disk, the ELF segment
// holding the frame's offset found, and Capstone decodes ~8 instructions
// around it. The runtime's frame offset is pc - load bias (symbolizer.cpp:
// dl_iterate_phdr's dlpi_addr), i.e. the link-time virtual address, which is
// the same for PIE and shared objects (bias = load base) and non-PIE
// executables (bias 0); it is mapped to a file offset through PT_LOAD.
// Not thread-safe: one Disassembler belongs to one render.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fsan/finding.hpp>

namespace fsan::reports {

struct DisasmLine {
  std::uint64_t address = 0;  // link-time virtual address
  unsigned size = 0;          // bytes
  std::string bytes;          // "48 89 e5"
  std::string text;           // "mov rbp, rsp"
  bool at_pc = false;         // the instruction at the frame's pc (a return address: the one after the call)
  bool call_site = false;     // the call just before a return-address pc
};

struct Disassembly {
  std::string error;   // one line when nothing could be decoded
  std::string symbol;  // enclosing function (demangled), if a symbol table names it
  std::uint64_t symbol_start = 0;
  std::string arch;  // "x86-64", "aarch64"
  std::vector<DisasmLine> lines;
};

class ElfImage;

// Disassembler: modules opened once per render (kept mapped read-only).
// Example:
//   Disassembler d;
//   Disassembly near = d.around("/usr/lib/x86_64-linux-gnu/libc.so.6", 0x29d90);
class Disassembler {
 public:
  static constexpr int kBefore = 5;  // instructions shown before the pc
  static constexpr int kAfter = 3;   // the pc's and after
  static constexpr std::size_t kMaxModules = 64;

  Disassembler();
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // around: the instructions around `offset` in `module`; `error` says why
  // there are none (module unreadable, not ELF, offset outside code, ...).
  Disassembly around(const std::string& module, std::uint64_t offset);

 private:
  const ElfImage* image(const std::string& module, std::string* error);

  std::map<std::string, std::unique_ptr<ElfImage>> images_;
  std::map<std::string, std::string> failures_;
};

// render_disassembly: `<div class="disasm">` for frame `fr` (its module and
// offset), the pc's instruction marked `class="pc"`; a one-line
// `<div class="disasm-error">` when the module cannot be read.
std::string render_disassembly(Disassembler& d, const Frame& fr);

}  // namespace fsan::reports
