// ElfImage: a module file (executable or shared object) mapped read-only, with
// just what the disassembly view needs: the machine, the bytes of the
// executable PT_LOAD segment holding a virtual address, and the function
// symbol (.symtab, else .dynsym) around it. 64-bit little-endian ELF only
// (x86-64, aarch64: the machines fibersan runs on). Every offset read from
// the file is bounds-checked: a truncated or hostile file gives an error,
// never a read outside the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fsan::reports {

// Example:
//   std::string error;
//   auto img = ElfImage::open("/usr/lib/x86_64-linux-gnu/libc.so.6", &error);
//   ElfImage::Code code;
//   if (img && img->code_at(0x29d90, &code)) decode(code.bytes + (0x29d90 - code.start));
class ElfImage {
 public:
  static constexpr std::size_t kMaxFileBytes = std::size_t{2} << 30;

  // open: maps `path`; null with a one-line *error when it cannot be read
  // or is not a 64-bit little-endian ELF file.
  static std::unique_ptr<ElfImage> open(const std::string& path, std::string* error);
  ~ElfImage();
  ElfImage(const ElfImage&) = delete;
  ElfImage& operator=(const ElfImage&) = delete;

  std::uint16_t machine() const { return machine_; }  // EM_X86_64, EM_AARCH64, ...

  // Code: the file bytes of one executable segment, [start, end) in
  // link-time virtual addresses; bytes[0] is at `start`.
  struct Code {
    const std::uint8_t* bytes = nullptr;
    std::uint64_t start = 0, end = 0;
  };
  // code_at: the executable segment whose file bytes hold `vaddr`.
  bool code_at(std::uint64_t vaddr, Code* out) const;

  struct Symbol {
    std::string name;  // as in the file (mangled)
    std::uint64_t start = 0, size = 0;
  };
  // function_at: the function symbol covering `vaddr`. A size-0 symbol (an
  // assembly label) counts only when no sized one covers vaddr and it is the
  // closest start at or before vaddr.
  bool function_at(std::uint64_t vaddr, Symbol* out) const;

 private:
  ElfImage(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool parse(std::string* error);
  bool in_file(std::uint64_t off, std::uint64_t len) const { return off <= size_ && len <= size_ - off; }

  const std::uint8_t* data_;
  std::size_t size_;
  std::uint16_t machine_ = 0;
};

}  // namespace fsan::reports
