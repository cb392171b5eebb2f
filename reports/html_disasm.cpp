// Disassembly around a pc: see html_disasm.hpp. Capstone (libcapstone-dev)
// decodes the instructions: x86-64 has variable-length encodings, so the
// window starts at the enclosing function's symbol when there is one (decoding
// forward from a known instruction start), else at the earliest nearby byte
// whose decoding lands exactly on the pc.
#include "html_disasm.hpp"

#include <capstone/capstone.h>
#include <cxxabi.h>
#include <elf.h>

#include <cstdio>
#include <cstdlib>

#include "html_elf.hpp"
#include "html_escape.hpp"
#include "html_text.hpp"

namespace fsan::reports {
namespace {

constexpr std::uint64_t kMaxDecodeFromSymbol = 16 * 1024;  // beyond this, resynchronise near the pc
constexpr std::uint64_t kResyncWindow = 64;                // bytes searched back for an instruction start

std::string demangled(const std::string& name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out = d;
  std::free(d);
  return out;
}

// Capstone: one handle for one architecture, closed on scope exit.
class Capstone {
 public:
  Capstone(cs_arch arch, cs_mode mode) { ok_ = cs_open(arch, mode, &handle_) == CS_ERR_OK; }
  ~Capstone() {
    if (ok_) cs_close(&handle_);
  }
  Capstone(const Capstone&) = delete;
  Capstone& operator=(const Capstone&) = delete;
  bool ok() const { return ok_; }

  // decode: instructions from `from` while their address is < `until`
  // (at most `max`), stopping at the segment's end or an undecodable byte.
  std::vector<DisasmLine> decode(const ElfImage::Code& code, std::uint64_t from, std::uint64_t until, int max) {
    std::vector<DisasmLine> out;
    cs_insn* insn = cs_malloc(handle_);
    if (insn == nullptr) return out;
    const std::uint8_t* p = code.bytes + (from - code.start);
    std::size_t left = code.end - from;
    std::uint64_t addr = from;
    while (static_cast<int>(out.size()) < max && addr < until && cs_disasm_iter(handle_, &p, &left, &addr, insn)) {
      DisasmLine l;
      l.address = insn->address;
      l.size = insn->size;
      char hex[4];
      for (unsigned i = 0; i < insn->size; ++i) {
        std::snprintf(hex, sizeof(hex), i ? " %02x" : "%02x", insn->bytes[i]);
        l.bytes += hex;
      }
      l.text = insn->mnemonic;
      if (insn->op_str[0] != '\0') l.text += std::string(" ") + insn->op_str;
      out.push_back(std::move(l));
    }
    cs_free(insn, 1);
    return out;
  }

 private:
  csh handle_ = 0;
  bool ok_ = false;
};

bool is_call(const std::string& text, std::uint16_t machine) {
  if (machine == EM_X86_64) return text.rfind("call", 0) == 0;
  return text.rfind("bl ", 0) == 0 || text.rfind("blr ", 0) == 0;
}

}  // namespace

Disassembler::Disassembler() = default;
Disassembler::~Disassembler() = default;

const ElfImage* Disassembler::image(const std::string& module, std::string* error) {
  if (auto it = images_.find(module); it != images_.end()) return it->second.get();
  if (auto it = failures_.find(module); it != failures_.end()) {
    *error = it->second;
    return nullptr;
  }
  if (images_.size() >= kMaxModules) {
    *error = "too many modules to disassemble in one report";
    return nullptr;
  }
  std::unique_ptr<ElfImage> img = ElfImage::open(module, error);
  if (img == nullptr) {
    failures_[module] = *error;
    return nullptr;
  }
  return images_.emplace(module, std::move(img)).first->second.get();
}

Disassembly Disassembler::around(const std::string& module, std::uint64_t offset) {
  Disassembly d;
  if (module.empty()) {
    d.error = "no module recorded for this frame";
    return d;
  }
  const ElfImage* img = image(module, &d.error);
  if (img == nullptr) return d;
  cs_arch arch;
  cs_mode mode;
  if (img->machine() == EM_X86_64) {
    arch = CS_ARCH_X86, mode = CS_MODE_64, d.arch = "x86-64";
  } else if (img->machine() == EM_AARCH64) {
    arch = CS_ARCH_ARM64, mode = CS_MODE_ARM, d.arch = "aarch64";
  } else {
    d.error = module + ": ELF machine " + std::to_string(img->machine()) + " is not disassembled";
    return d;
  }
  ElfImage::Code code;
  if (!img->code_at(offset, &code)) {
    d.error = module + ": offset " + hex_text(offset) + " is not in an executable segment";
    return d;
  }
  Capstone cs(arch, mode);
  if (!cs.ok()) {
    d.error = "Capstone cannot open a " + d.arch + " disassembler";
    return d;
  }
  ElfImage::Symbol sym;
  if (img->function_at(offset, &sym)) {
    d.symbol = demangled(sym.name);
    d.symbol_start = sym.start;
  }

  // Find a start from which decoding lands exactly on `offset`.
  std::vector<DisasmLine> before;
  auto lands_on_pc = [&](const std::vector<DisasmLine>& v) {
    return !v.empty() && v.back().address < offset && v.back().address + v.back().size == offset;
  };
  bool synced = offset == code.start;
  if (!synced && d.arch == "aarch64") {
    std::uint64_t from = offset >= code.start + 4 * kBefore ? offset - 4 * kBefore : code.start;
    before = cs.decode(code, from & ~std::uint64_t{3}, offset, kBefore);
    synced = before.empty() || lands_on_pc(before);
  }
  if (!synced && !d.symbol.empty() && sym.start >= code.start && offset - sym.start <= kMaxDecodeFromSymbol) {
    before = cs.decode(code, sym.start, offset, static_cast<int>(kMaxDecodeFromSymbol));
    synced = lands_on_pc(before) || sym.start == offset;
  }
  for (std::uint64_t back = kResyncWindow; !synced && back >= 1; --back) {
    if (offset - code.start < back) continue;
    before = cs.decode(code, offset - back, offset, static_cast<int>(back));
    synced = lands_on_pc(before);
  }
  if (!synced) before.clear();  // no known instruction boundary: start at the pc itself
  if (before.size() > static_cast<std::size_t>(kBefore)) before.erase(before.begin(), before.end() - kBefore);
  if (!before.empty() && is_call(before.back().text, img->machine())) before.back().call_site = true;

  std::vector<DisasmLine> after = cs.decode(code, offset, code.end, kAfter);
  if (after.empty()) {
    d.error = module + ": no instruction decodes at " + hex_text(offset);
    return d;
  }
  after.front().at_pc = true;
  d.lines = std::move(before);
  d.lines.insert(d.lines.end(), after.begin(), after.end());
  return d;
}

std::string render_disassembly(Disassembler& dis, const Frame& fr) {
  Disassembly d = dis.around(fr.module, fr.offset);
  if (d.lines.empty()) return "<div class=\"disasm-error\">no disassembly: " + escape_html(d.error) + "</div>";
  std::string out = "<div class=\"disasm\"><div class=\"disasm-head\">" + escape_html(base_name(fr.module)) + " (" +
                    escape_html(d.arch) + ")";
  if (!d.symbol.empty()) out += " in <span class=\"sym\">" + escape_html(d.symbol) + "</span>";
  out += "</div><pre>";
  for (const DisasmLine& l : d.lines) {
    const char* cls = l.at_pc ? "insn pc" : l.call_site ? "insn call" : "insn";
    out += std::string("<span class=\"") + cls + "\"><span class=\"addr\">" + hex_text(l.address);
    if (!d.symbol.empty() && l.address >= d.symbol_start)
      out += " &lt;+" + std::to_string(l.address - d.symbol_start) + "&gt;";
    out += "</span><span class=\"bytes\">" + escape_html(l.bytes) + "</span><span class=\"asm\">" +
           escape_html(l.text) + "</span>";
    if (l.at_pc) out += "<span class=\"note\">\xE2\x86\x90 pc</span>";
    if (l.call_site) out += "<span class=\"note\">\xE2\x86\x90 call</span>";
    out += "</span>";
  }
  out += "</pre></div>";
  return out;
}

}  // namespace fsan::reports
