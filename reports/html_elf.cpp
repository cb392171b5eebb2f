// ElfImage: see html_elf.hpp.
#include "html_elf.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsan::reports {

std::unique_ptr<ElfImage> ElfImage::open(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = path + " is not a regular file";
    return nullptr;
  }
  auto size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(Elf64_Ehdr) || size > kMaxFileBytes) {
    ::close(fd);
    *error = path + " is not an ELF file (size " + std::to_string(size) + ")";
    return nullptr;
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    *error = "cannot map " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<ElfImage> img(new ElfImage(static_cast<const std::uint8_t*>(map), size));
  if (!img->parse(error)) {
    *error = path + ": " + *error;
    return nullptr;
  }
  return img;
}

ElfImage::~ElfImage() { munmap(const_cast<std::uint8_t*>(data_), size_); }

bool ElfImage::parse(std::string* error) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, data_, sizeof(eh));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    *error = "not an ELF file";
    return false;
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    *error = "not a 64-bit little-endian ELF file";
    return false;
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || !in_file(eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr))) {
    *error = "no valid program headers";
    return false;
  }
  machine_ = eh.e_machine;
  return true;
}

bool ElfImage::code_at(std::uint64_t vaddr, Code* out) const {
  Elf64_Ehdr eh;
  std::memcpy(&eh, data_, sizeof(eh));
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, data_ + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    if (!in_file(ph.p_offset, ph.p_filesz)) continue;
    if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz) continue;
    out->bytes = data_ + ph.p_offset;
    out->start = ph.p_vaddr;
    out->end = ph.p_vaddr + ph.p_filesz;
    return true;
  }
  return false;
}

bool ElfImage::function_at(std::uint64_t vaddr, Symbol* out) const {
  Elf64_Ehdr eh;
  std::memcpy(&eh, data_, sizeof(eh));
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || !in_file(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)))
    return false;
  auto section = [&](unsigned i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, data_ + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
    return sh;
  };
  // .symtab names local functions too; .dynsym is what a stripped library keeps.
  for (unsigned want : {SHT_SYMTAB, SHT_DYNSYM}) {
    bool found = false;
    Elf64_Sym best{};
    std::uint64_t best_names = 0, best_names_size = 0;
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh = section(i);
      if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || !in_file(sh.sh_offset, sh.sh_size)) continue;
      if (sh.sh_link >= eh.e_shnum) continue;
      Elf64_Shdr names = section(sh.sh_link);
      if (!in_file(names.sh_offset, names.sh_size)) continue;
      for (std::uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); ++k) {
        Elf64_Sym sym;
        std::memcpy(&sym, data_ + sh.sh_offset + k * sizeof(Elf64_Sym), sizeof(sym));
        unsigned type = ELF64_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF) continue;
        if (sym.st_value > vaddr) continue;
        bool covers = sym.st_size != 0 ? vaddr - sym.st_value < sym.st_size : true;
        if (!covers) continue;
        // A sized symbol that covers vaddr beats a size-0 one; among equals, the closest start.
        bool better = !found || (sym.st_size != 0 && best.st_size == 0) ||
                      ((sym.st_size != 0) == (best.st_size != 0) && sym.st_value > best.st_value);
        if (!better) continue;
        found = true;
        best = sym;
        best_names = names.sh_offset;
        best_names_size = names.sh_size;
      }
    }
    if (!found || best.st_name >= best_names_size) continue;
    const char* name = reinterpret_cast<const char*>(data_ + best_names);
    std::size_t len = strnlen(name + best.st_name, best_names_size - best.st_name);
    out->name.assign(name + best.st_name, len);
    out->start = best.st_value;
    out->size = best.st_size;
    return true;
  }
  return false;
}

}  // namespace fsan::reports
